// Package provincetest holds the province test over real clusters: three
// counties and a province, each its own PostgreSQL (docs/operations.md §6).
// It is a package of its own so that it runs beside the API tests, not
// inside their package's time.
package provincetest
