package importer

import (
	"slices"

	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/region"
	"healthrec/internal/staff"
)

// registry is what the rows may refer to: what the database holds plus the
// good rows of the files read so far.
type registry struct {
	institutions map[string]*region.Institution
	regions      map[string]*region.Region
	staff        map[string]*staff.Staff
	entriesTable bool
}

func newRegistry(db *postgres.ImportRegistry) *registry {
	r := &registry{
		institutions: make(map[string]*region.Institution, len(db.Institutions)),
		regions:      make(map[string]*region.Region, len(db.Regions)),
		staff:        make(map[string]*staff.Staff, len(db.Staff)),
		entriesTable: db.EntriesTable,
	}
	for i := range db.Institutions {
		r.institutions[db.Institutions[i].Code] = &db.Institutions[i]
	}
	for i := range db.Regions {
		g := &db.Regions[i]
		lvl, _ := ident.RegionLevel(g.Code)
		g.Level = lvl
		r.regions[g.Code] = g
	}
	for i := range db.Staff {
		r.staff[db.Staff[i].Code] = &db.Staff[i]
	}
	return r
}

// village returns a registered village, or nil.
func (r *registry) village(code string) *region.Region {
	if v := r.regions[code]; v != nil && v.Level == ident.LevelVillage {
		return v
	}
	return nil
}

// county reports whether code is a registered county.
func (r *registry) county(code string) bool {
	c := r.regions[code]
	return c != nil && c.Level == ident.LevelCounty
}

// doctorOf reports whether a staff member is a doctor of an institution.
func doctorOf(s *staff.Staff, inst string) bool {
	return s != nil && s.InstitutionCode == inst && s.HasIn(staff.Doctor, staff.InstitutionDomain(inst))
}

// sameGrants compares role sets regardless of order.
func sameGrants(a, b []staff.Grant) bool {
	key := func(gs []staff.Grant) []string {
		out := make([]string, 0, len(gs))
		for _, g := range gs {
			out = append(out, string(g.Role)+"@"+g.Domain)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(key(a), key(b))
}
