package rates

import "time"

// ProvinceLevels are the levels of a province report: the counties, then
// down to their townships and institutions. A doctor's figures stay in the
// county (DESIGN §9: the province sees each county's figures, not its
// people).
var ProvinceLevels = []Level{County, Township, Institution}

// Province builds a province's report from its counties' reports (each
// Computed from the counters the province database received, with the
// county's own targets): their county, township and institution rows side
// by side, ranked across the province with the same ranks, top and bottom
// three, summaries and warnings as a county report. code and name name the
// province; Targets are the defaults, each row keeps its county's target.
func Province(code, name string, p Params, counties []*Report, now time.Time) *Report {
	from, to := p.Window()
	r := &Report{CountyCode: code, CountyName: name, Params: p, WindowFrom: from, WindowTo: to,
		Targets: DefaultTargets, ComputedAt: now, Rows: []Row{}, Summaries: []Summary{}, Warnings: []Warning{}}
	for _, c := range counties {
		for _, row := range c.Rows {
			if row.Level == Doctor {
				continue
			}
			row.Rank, row.BottomThree, row.Warning = nil, false, false
			// Across counties a township's or an institution's county is
			// not in its code (institutions have codes of their own): the
			// row names it, so that a page can open a county's own units.
			if row.Level != County && row.Parent == "" {
				row.Parent = c.CountyCode
			}
			r.Rows = append(r.Rows, row)
		}
	}
	SortRows(r.Rows)
	r.rank()
	// rank summarises every level; the doctor level has no row here.
	kept := r.Summaries[:0]
	for _, s := range r.Summaries {
		if s.Level != Doctor {
			kept = append(kept, s)
		}
	}
	r.Summaries = kept
	return r
}
