// Package rates computes the three accountability rates of DESIGN §5 —
// coverage (建档率), quality (合格率) and usage (使用率) — per responsible
// doctor, institution, township and county, with targets, gaps, ranks,
// summaries and warnings, and writes them as JSON, CSV and PDF.
//
// Storage hands Compute a county's villages and per-village group counts
// (internal/postgres/rates.go); everything from there on is here, pure, so
// that a published snapshot and a live report are built by the same code.
package rates

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// Level is a scope level of a report.
type Level string

// The levels, coarsest first: the order of reports and CSV files.
const (
	County      Level = "county"
	Township    Level = "township"
	Institution Level = "institution"
	Doctor      Level = "doctor"
)

// Levels lists the levels in report order.
var Levels = []Level{County, Township, Institution, Doctor}

// Chinese is the level's name in reports.
func (l Level) Chinese() string {
	switch l {
	case County:
		return "县（区）"
	case Township:
		return "乡镇（街道）"
	case Institution:
		return "机构"
	case Doctor:
		return "责任医生"
	}
	return string(l)
}

func (l Level) order() int {
	for i, x := range Levels {
		if x == l {
			return i
		}
	}
	return len(Levels)
}

// ParseLevel reads a level name.
func ParseLevel(s string) (Level, bool) {
	for _, l := range Levels {
		if string(l) == s {
			return l, true
		}
	}
	return "", false
}

// Indicator is one of the three rates.
type Indicator string

// The indicators, in report order.
const (
	Coverage Indicator = "coverage"
	Quality  Indicator = "quality"
	Usage    Indicator = "usage"
)

// Indicators lists the indicators in report order.
var Indicators = []Indicator{Coverage, Quality, Usage}

// Chinese is the indicator's name in reports.
func (i Indicator) Chinese() string {
	switch i {
	case Coverage:
		return "建档率"
	case Quality:
		return "合格率"
	case Usage:
		return "使用率"
	}
	return string(i)
}

func (i Indicator) order() int {
	for k, x := range Indicators {
		if x == i {
			return k
		}
	}
	return len(Indicators)
}

// ParseIndicator reads an indicator name.
func ParseIndicator(s string) (Indicator, bool) {
	for _, i := range Indicators {
		if string(i) == s {
			return i, true
		}
	}
	return "", false
}

// Percent is a percentage in tenths: 853 is 85.3 %. Rates, targets and gaps
// are kept as integers so that rounding happens once and ties are exact.
type Percent int

// RateOf returns num/den as a percentage rounded half up to 0.1, and false
// when there is no denominator.
func RateOf(num, den int) (Percent, bool) {
	if den <= 0 {
		return 0, false
	}
	return Percent((int64(num)*2000 + int64(den)) / (2 * int64(den))), true
}

// String formats the percentage with one decimal: "85.3", "-12.5", "100.0".
func (p Percent) String() string {
	sign, n := "", int(p)
	if n < 0 {
		sign, n = "-", -n
	}
	return sign + strconv.Itoa(n/10) + "." + strconv.Itoa(n%10)
}

// MarshalJSON writes the percentage as a number with one decimal.
func (p Percent) MarshalJSON() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalJSON reads a number with at most one decimal.
func (p *Percent) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("应为数字")
	}
	v, err := ParsePercent(n.String())
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Scan reads a numeric column (as text or bytes), for stored figures.
func (p *Percent) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		*p = Percent(v * 10)
		return nil
	default:
		return fmt.Errorf("rates.Percent: cannot scan %T", src)
	}
	v, err := ParsePercent(s)
	*p = v
	return err
}

// ParsePercent reads "90", "92.5" or "-3.0": at most one decimal.
func ParsePercent(s string) (Percent, error) {
	bad := fmt.Errorf("应为最多一位小数的百分数")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 6 || !digits(whole) || hasFrac && (len(frac) != 1 || !digits(frac)) {
		return 0, bad
	}
	n, _ := strconv.Atoi(whole)
	n *= 10
	if hasFrac {
		n += int(frac[0] - '0')
	}
	if neg {
		n = -n
	}
	return Percent(n), nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Targets are the target rates per indicator.
type Targets struct {
	Coverage Percent `json:"coverage"`
	Quality  Percent `json:"quality"`
	Usage    Percent `json:"usage"`
}

// DefaultTargets are DESIGN §5.4's defaults: 90 %, 90 %, 60 %.
var DefaultTargets = Targets{Coverage: 900, Quality: 900, Usage: 600}

// Of returns the target of an indicator.
func (t Targets) Of(i Indicator) Percent {
	switch i {
	case Coverage:
		return t.Coverage
	case Quality:
		return t.Quality
	}
	return t.Usage
}

// Validate checks each target is between 0 and 100 %.
func (t Targets) Validate() error {
	var fe apperr.FieldErrors
	for _, i := range Indicators {
		if v := t.Of(i); v < 0 || v > 1000 {
			fe.Add(string(i), "目标应在 0–100 之间")
		}
	}
	return fe.Err()
}

// Sample is the sample size per draw group: a number of records, or 0 for
// all records.
type Sample int

// All is the sample of every record.
const All Sample = 0

// MaxSample bounds a numeric sample size; larger is "all" in practice.
const MaxSample = 1000000

// ParseSample reads "all" (or "") or a positive integer.
func ParseSample(s string) (Sample, error) {
	if s == "" || s == "all" {
		return All, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxSample || !digits(s) {
		return 0, apperr.InvalidField("sample", "应为 all 或 1–1000000 的整数")
	}
	return Sample(n), nil
}

// String returns "all" or the number.
func (s Sample) String() string {
	if s == All {
		return "all"
	}
	return strconv.Itoa(int(s))
}

// MarshalJSON writes "all" or the number.
func (s Sample) MarshalJSON() ([]byte, error) {
	if s == All {
		return []byte(`"all"`), nil
	}
	return []byte(strconv.Itoa(int(s))), nil
}

// UnmarshalJSON reads "all" or a number.
func (s *Sample) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil {
		v, err := ParseSample(str)
		*s = v
		return err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("应为 all 或正整数")
	}
	v, err := ParseSample(n.String())
	*s = v
	return err
}

// Params are a report's parameters.
type Params struct {
	// AsOf is the period's last day.
	AsOf civil.Date `json:"as_of"`
	// Sample is the number of records drawn per draw group — each responsible
	// doctor's records, and per village the records without one — or All.
	Sample Sample `json:"sample"`
	// Seed makes the draw reproducible: same seed, same data, same sample.
	Seed int64 `json:"seed"`
}

// Window returns the usage window: the 365 days ending on the as-of date.
func (p Params) Window() (from, to civil.Date) { return p.AsOf.AddDays(-364), p.AsOf }

// ParseSeed reads an integer seed.
func ParseSeed(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, apperr.InvalidField("seed", "应为整数")
	}
	return n, nil
}
