package rates

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthrec/internal/civil"
	"healthrec/internal/quality"
)

// Unit is a named scope: a county, township, institution or doctor.
type Unit struct {
	Code string `json:"code" db:"code"`
	Name string `json:"name" db:"name"`
	// Parent is a doctor's institution; empty for the other units.
	Parent string `json:"parent,omitempty" db:"parent"`
}

// Village is one village of the county as of the report's date.
type Village struct {
	Code        string `db:"code"`
	Name        string `db:"name"`
	Township    string `db:"township"`
	Institution string `db:"institution"`
	// Population is the registered permanent population for the as-of year;
	// nil when none is registered.
	Population *int `db:"population"`
	// Doctor is the village's responsible doctor at the as-of date, or "".
	Doctor string `db:"doctor"`
}

// Group counts records as of the report's date: those of one village with
// one responsible doctor at that date (DESIGN §5.2: a handover after it
// does not move them), or — where either is "" — of a village whatever
// their doctor, or of a doctor whatever their village. Each group adds to the
// scopes of its village and of its doctor, so storage may give the counts
// per village and doctor, or per village and per doctor apart.
type Group struct {
	Village string `db:"village"`
	Doctor  string `db:"doctor"`
	// Active is the records active at the as-of date (the coverage numerator).
	Active int `db:"active"`
	// Sampled is how many of them are in the sample; Qualified and Used are
	// the sampled ones that pass every quality rule and that have a dynamic
	// record in the usage window.
	Sampled   int `db:"sampled"`
	Qualified int `db:"qualified"`
	Used      int `db:"used"`
}

// Data is what storage provides for one county's report.
type Data struct {
	County       Unit
	Townships    []Unit
	Institutions []Unit
	// Doctors are the doctors responsible for a village at the as-of date or
	// for an active record, each with their institution as Parent.
	Doctors  []Unit
	Villages []Village
	Groups   []Group
}

// Row is one scope's figure for one indicator: a line of the CSV.
type Row struct {
	Level       Level     `json:"level"`
	ScopeCode   string    `json:"scope_code"`
	ScopeName   string    `json:"scope_name"`
	Parent      string    `json:"parent_code,omitempty"`
	Indicator   Indicator `json:"indicator"`
	Numerator   int       `json:"numerator"`
	Denominator int       `json:"denominator"`
	// Rate is nil when there is no denominator: no registered population,
	// or no record in the sample.
	Rate   *Percent `json:"rate"`
	Target Percent  `json:"target"`
	// Gap is Rate − Target in percentage points: negative below target.
	Gap *Percent `json:"gap"`
	// Rank is 1 for the best rate of the level; ties share a rank (1, 1, 3).
	Rank        *int `json:"rank"`
	BottomThree bool `json:"bottom_three"`
	Warning     bool `json:"warning"`
	// MissingPopulation lists the scope's villages without a registered
	// population for the as-of year (coverage rows only).
	MissingPopulation []string `json:"missing_population,omitempty"`
}

// Standing is a scope's place in a summary.
type Standing struct {
	ScopeCode string  `json:"scope_code"`
	ScopeName string  `json:"scope_name"`
	Rate      Percent `json:"rate"`
	Rank      int     `json:"rank"`
}

// Summary is an indicator's distribution over one level.
type Summary struct {
	Level     Level      `json:"level"`
	Indicator Indicator  `json:"indicator"`
	Ranked    int        `json:"ranked"`
	Top       []Standing `json:"top_three"`
	Bottom    []Standing `json:"bottom_three"`
	Max       *Percent   `json:"max"`
	Min       *Percent   `json:"min"`
	Mean      *Percent   `json:"mean"`
}

// Warning names a scope in the bottom three of an indicator or 10 or more
// percentage points below its target.
type Warning struct {
	Level       Level     `json:"level"`
	ScopeCode   string    `json:"scope_code"`
	ScopeName   string    `json:"scope_name"`
	Indicator   Indicator `json:"indicator"`
	Rate        Percent   `json:"rate"`
	Target      Percent   `json:"target"`
	Gap         Percent   `json:"gap"`
	Rank        int       `json:"rank"`
	BottomThree bool      `json:"bottom_three"`
	BelowTarget bool      `json:"below_target"`
	Message     string    `json:"message"`
}

// Report is a computed (or published) rates report for one county.
type Report struct {
	CountyCode string `json:"county_code"`
	CountyName string `json:"county_name"`
	Params
	WindowFrom civil.Date `json:"window_from"`
	WindowTo   civil.Date `json:"window_to"`
	Targets    Targets    `json:"targets"`
	ComputedAt time.Time  `json:"computed_at"`
	Rows       []Row      `json:"rows"`
	Summaries  []Summary  `json:"summaries"`
	Warnings   []Warning  `json:"warnings"`
	// Kind is a published snapshot's kind (pre_assessment, assessment);
	// Status says, in Chinese, whether it is in force or superseded. Both
	// are empty for a live report.
	Kind   string `json:"kind,omitempty"`
	Status string `json:"-"`
	// RuleSet names the quality rules the report was computed with
	// (quality.RuleSet): a published snapshot keeps its own.
	RuleSet string `json:"rule_set"`
}

// WarnBelow is how far below target a rate draws a warning: 10 points.
const WarnBelow Percent = -100

// Compute builds the report from a county's data.
//
// Coverage: records active at the as-of date in the scope's villages over
// the sum of those villages' registered populations (villages without one
// add nothing to the denominator and are listed in MissingPopulation). A
// doctor's villages are those they are responsible for at the as-of date.
//
// Quality and usage: over the sampled records of the scope; a doctor's are
// the records whose responsible doctor they were at the as-of date (as
// storage groups them), and every higher level's
// sample is the union of the draws of the groups in it.
func Compute(p Params, targets Targets, d *Data, now time.Time) *Report {
	from, to := p.Window()
	r := &Report{CountyCode: d.County.Code, CountyName: d.County.Name, Params: p, WindowFrom: from, WindowTo: to,
		Targets: targets, ComputedAt: now, Rows: []Row{}, Summaries: []Summary{}, Warnings: []Warning{}, RuleSet: quality.RuleSet}

	// One pass over the villages and one over the groups, adding each into
	// the tallies of the scopes it belongs to.
	type tally struct {
		filed, pop               int
		hasPop                   bool
		missing                  []string
		sampled, qualified, used int
	}
	tallies := map[Level]map[string]*tally{County: {}, Township: {}, Institution: {}, Doctor: {}}
	at := func(l Level, code string) *tally {
		t := tallies[l][code]
		if t == nil {
			t = &tally{}
			tallies[l][code] = t
		}
		return t
	}
	villages := make(map[string]Village, len(d.Villages))
	for _, v := range d.Villages {
		villages[v.Code] = v
	}
	filed := map[string]int{}
	// A village's scopes, looked up once for its groups (a county has
	// thousands of groups: every village and doctor).
	above := make(map[string][3]*tally, len(d.Villages))
	for _, g := range d.Groups {
		scopes := make([]*tally, 0, 4)
		if g.Village != "" {
			filed[g.Village] += g.Active
			up, ok := above[g.Village]
			if !ok {
				v := villages[g.Village]
				up = [3]*tally{at(County, d.County.Code), at(Township, v.Township), at(Institution, v.Institution)}
				above[g.Village] = up
			}
			scopes = append(scopes, up[:]...)
		}
		if g.Doctor != "" {
			scopes = append(scopes, at(Doctor, g.Doctor))
		}
		for _, t := range scopes {
			t.sampled += g.Sampled
			t.qualified += g.Qualified
			t.used += g.Used
		}
	}
	for _, v := range d.Villages {
		scopes := []*tally{at(County, d.County.Code), at(Township, v.Township), at(Institution, v.Institution)}
		if v.Doctor != "" {
			scopes = append(scopes, at(Doctor, v.Doctor))
		}
		for _, t := range scopes {
			t.filed += filed[v.Code]
			if v.Population == nil {
				t.missing = append(t.missing, v.Code)
				continue
			}
			t.pop += *v.Population
			t.hasPop = true
		}
	}

	type scope struct {
		level Level
		unit  Unit
	}
	scopes := []scope{{County, d.County}}
	for _, u := range d.Townships {
		scopes = append(scopes, scope{Township, u})
	}
	for _, u := range d.Institutions {
		scopes = append(scopes, scope{Institution, u})
	}
	for _, u := range d.Doctors {
		scopes = append(scopes, scope{Doctor, u})
	}
	for _, s := range scopes {
		t := at(s.level, s.unit.Code)
		base := Row{Level: s.level, ScopeCode: s.unit.Code, ScopeName: s.unit.Name, Parent: s.unit.Parent}
		cov, qual, use := base, base, base
		cov.Indicator, cov.Numerator, cov.MissingPopulation = Coverage, t.filed, t.missing
		if t.hasPop {
			cov.Denominator = t.pop
		}
		qual.Indicator, qual.Numerator, qual.Denominator = Quality, t.qualified, t.sampled
		use.Indicator, use.Numerator, use.Denominator = Usage, t.used, t.sampled
		for _, row := range []Row{cov, qual, use} {
			row.Target = targets.Of(row.Indicator)
			if rate, ok := RateOf(row.Numerator, row.Denominator); ok {
				gap := rate - row.Target
				row.Rate, row.Gap = &rate, &gap
			}
			r.Rows = append(r.Rows, row)
		}
	}
	SortRows(r.Rows)
	r.rank()
	return r
}

// SortRows puts rows in report order: level (county, township, institution,
// doctor), scope code, indicator (coverage, quality, usage).
func SortRows(rows []Row) {
	less := func(a, b *Row) bool {
		if a.Level != b.Level {
			return a.Level.order() < b.Level.order()
		}
		if a.ScopeCode != b.ScopeCode {
			return a.ScopeCode < b.ScopeCode
		}
		return a.Indicator.order() < b.Indicator.order()
	}
	// Compute's rows mostly come in order already; moving them costs.
	for i := 1; i < len(rows); i++ {
		if less(&rows[i], &rows[i-1]) {
			sort.SliceStable(rows, func(i, j int) bool { return less(&rows[i], &rows[j]) })
			return
		}
	}
}

// rank sets ranks, bottom-three flags, warnings and summaries per level and
// indicator.
//
// Ranks compare the rates as shown (to 0.1 %), best first, and ties share a
// rank (competition ranking: 1, 1, 3). The bottom three are the scopes whose
// rank counted from the worst is 3 or better, ties included — but only in a
// level of more than three ranked scopes: where there are three or fewer
// (always the county itself), "bottom three" would name every scope and
// tell nobody anything.
func (r *Report) rank() {
	for _, l := range Levels {
		for _, ind := range Indicators {
			var idx []int
			for i := range r.Rows {
				if r.Rows[i].Level == l && r.Rows[i].Indicator == ind && r.Rows[i].Rate != nil {
					idx = append(idx, i)
				}
			}
			s := Summary{Level: l, Indicator: ind, Ranked: len(idx), Top: []Standing{}, Bottom: []Standing{}}
			if len(idx) == 0 {
				r.Summaries = append(r.Summaries, s)
				continue
			}
			rate := func(i int) Percent { return *r.Rows[i].Rate }
			slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(rate(b), rate(a)) })
			worse := make([]int, len(r.Rows)) // row → rank counted from the worst
			for k, i := range idx {
				rank := k + 1
				if k > 0 && rate(i) == rate(idx[k-1]) {
					rank = *r.Rows[idx[k-1]].Rank
				}
				r.Rows[i].Rank = &rank
			}
			for k := len(idx) - 1; k >= 0; k-- {
				i := idx[k]
				w := len(idx) - k
				if k < len(idx)-1 && rate(i) == rate(idx[k+1]) {
					w = worse[idx[k+1]]
				}
				worse[i] = w
			}
			sum := 0
			for _, i := range idx {
				row := &r.Rows[i]
				sum += int(*row.Rate)
				row.BottomThree = len(idx) > 3 && worse[i] <= 3
				below := *row.Gap <= WarnBelow
				row.Warning = row.BottomThree || below
				st := Standing{ScopeCode: row.ScopeCode, ScopeName: row.ScopeName, Rate: *row.Rate, Rank: *row.Rank}
				if *row.Rank <= 3 {
					s.Top = append(s.Top, st)
				}
				if row.Warning {
					r.Warnings = append(r.Warnings, warningOf(row, below))
				}
			}
			for k := len(idx) - 1; k >= 0; k-- {
				if row := r.Rows[idx[k]]; row.BottomThree {
					s.Bottom = append(s.Bottom, Standing{ScopeCode: row.ScopeCode, ScopeName: row.ScopeName, Rate: *row.Rate, Rank: *row.Rank})
				}
			}
			mx, mn := rate(idx[0]), rate(idx[len(idx)-1])
			mean := Percent((2*sum + len(idx)) / (2 * len(idx)))
			s.Max, s.Min, s.Mean = &mx, &mn, &mean
			r.Summaries = append(r.Summaries, s)
		}
	}
	// In report order; sorted by index, as a county's hundreds of warnings
	// are large to move.
	order := make([]int, len(r.Warnings))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		a, b := &r.Warnings[i], &r.Warnings[j]
		if a.Level != b.Level {
			return cmp.Compare(a.Level.order(), b.Level.order())
		}
		if a.ScopeCode != b.ScopeCode {
			return strings.Compare(a.ScopeCode, b.ScopeCode)
		}
		return cmp.Compare(a.Indicator.order(), b.Indicator.order())
	})
	sorted := make([]Warning, len(order))
	for k, i := range order {
		sorted[k] = r.Warnings[i]
	}
	r.Warnings = sorted
}

func warningOf(row *Row, below bool) Warning {
	w := Warning{Level: row.Level, ScopeCode: row.ScopeCode, ScopeName: row.ScopeName, Indicator: row.Indicator,
		Rate: *row.Rate, Target: row.Target, Gap: *row.Gap, Rank: *row.Rank, BottomThree: row.BottomThree, BelowTarget: below}
	// 责任医生 李医生（d011）合格率 72.5%，目标 90.0%，低于目标 17.5 个百分点，排名第 48，处于末三位
	msg := row.Level.Chinese() + " " + row.ScopeName + "（" + row.ScopeCode + "）" + row.Indicator.Chinese() + " " +
		row.Rate.String() + "%，目标 " + row.Target.String() + "%"
	if *row.Gap < 0 {
		msg += "，低于目标 " + (-*row.Gap).String() + " 个百分点"
	} else {
		msg += "，高于目标 " + row.Gap.String() + " 个百分点"
	}
	if row.BottomThree {
		msg += "，排名第 " + strconv.Itoa(*row.Rank) + "，处于末三位"
	}
	w.Message = msg
	return w
}

// Filter returns a copy of the report with only the rows keep accepts, and
// the warnings and summary standings of those rows. A summary's maximum,
// minimum and mean stay those of the whole level, so a filtered report
// still tells where its scopes stand.
func (r *Report) Filter(keep func(Row) bool) *Report {
	out := *r
	out.Rows = []Row{}
	kept := map[string]bool{}
	key := func(l Level, code string) string { return string(l) + "|" + code }
	for _, row := range r.Rows {
		if keep(row) {
			out.Rows = append(out.Rows, row)
			kept[key(row.Level, row.ScopeCode)] = true
		}
	}
	out.Warnings = []Warning{}
	for _, w := range r.Warnings {
		if kept[key(w.Level, w.ScopeCode)] {
			out.Warnings = append(out.Warnings, w)
		}
	}
	out.Summaries = make([]Summary, 0, len(r.Summaries))
	for _, s := range r.Summaries {
		f := s
		f.Top, f.Bottom = []Standing{}, []Standing{}
		for _, st := range s.Top {
			if kept[key(s.Level, st.ScopeCode)] {
				f.Top = append(f.Top, st)
			}
		}
		for _, st := range s.Bottom {
			if kept[key(s.Level, st.ScopeCode)] {
				f.Bottom = append(f.Bottom, st)
			}
		}
		out.Summaries = append(out.Summaries, f)
	}
	return &out
}

// Scope returns the rows of one scope, in indicator order.
func (r *Report) Scope(l Level, code string) []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Level == l && row.ScopeCode == code {
			out = append(out, row)
		}
	}
	return out
}
