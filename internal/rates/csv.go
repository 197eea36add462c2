package rates

import (
	"io"
	"strconv"

	"healthrec/internal/csvout"
)

// CSVHeader is the header row of DESIGN §5.6, fixed by the contract.
var CSVHeader = []string{"level", "scope_code", "scope_name", "indicator", "numerator", "denominator", "rate", "target", "gap", "rank", "warning"}

// WriteCSV writes the report's rows as UTF-8 CSV with the header row, in
// report order (level, scope code, indicator). A rate, gap or rank without a
// denominator is empty. Names pass through csvout, so a name a spreadsheet
// would run as a formula comes out as text; numbers stay numbers.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csvout.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	rows := append([]Row(nil), r.Rows...)
	SortRows(rows)
	for _, row := range rows {
		rate, gap, rank := "", "", ""
		if row.Rate != nil {
			rate, gap = row.Rate.String(), row.Gap.String()
		}
		if row.Rank != nil {
			rank = strconv.Itoa(*row.Rank)
		}
		warning := "0"
		if row.Warning {
			warning = "1"
		}
		if err := cw.Write([]string{string(row.Level), row.ScopeCode, row.ScopeName, string(row.Indicator),
			strconv.Itoa(row.Numerator), strconv.Itoa(row.Denominator), rate, row.Target.String(), gap, rank, warning}); err != nil {
			return err
		}
	}
	return cw.Flush()
}
