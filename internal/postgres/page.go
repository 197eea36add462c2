package postgres

import "context"

// Page selects one page of a list: page numbers start at 1.
type Page struct {
	Page    int
	PerPage int
}

// MaxPerPage bounds a page's size.
const MaxPerPage = 500

// Limit returns the page size, defaulting to 50.
func (p Page) Limit() int {
	switch {
	case p.PerPage <= 0:
		return 50
	case p.PerPage > MaxPerPage:
		return MaxPerPage
	}
	return p.PerPage
}

// Offset returns the number of rows before the page.
func (p Page) Offset() int {
	if p.Page <= 1 {
		return 0
	}
	return (p.Page - 1) * p.Limit()
}

// listTotal is the total of a list whose page rows carry it along
// (count(*) OVER ()): carried, when the page has rows or is the first; for a
// page past the end, which has no row to carry it, what countQuery counts.
func (db *DB) listTotal(ctx context.Context, p Page, rows, carried int, countQuery string, args ...any) (int, error) {
	if rows > 0 || p.Offset() == 0 {
		return carried, nil
	}
	var n int
	err := db.GetContext(ctx, &n, countQuery, args...)
	return n, translate(err)
}
