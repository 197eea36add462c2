package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lib/pq"

	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// What PostgreSQL refuses reaches the client in Chinese, naming the field
// where the error tells the column, and never in the database's own words;
// the driver error stays underneath for the server log.
func TestTranslateHidesDatabaseText(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO staff (code, name) VALUES ('dup', '重复')`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, sql string
		args      []any
		code      apperr.Code
		field     string
	}{
		{"not a number", `SELECT 'abc'::int`, nil, apperr.Invalid, ""},
		{"out of range", `SELECT 2147483648::int`, nil, apperr.Invalid, ""},
		{"NUL", `SELECT $1::text`, []any{"a\x00b"}, apperr.Invalid, ""},
		{"bad date", `SELECT '2026-02-30'::date`, nil, apperr.Invalid, ""},
		{"check", `INSERT INTO staff (code, name) VALUES ('bad code!', 'x')`, nil, apperr.Invalid, "code"},
		{"not null", `INSERT INTO regions (code, level, name) VALUES ('330199', 'county', NULL)`, nil, apperr.Invalid, "name"},
		{"foreign key", `INSERT INTO staff (code, name, institution_code) VALUES ('fk1', 'x', 'NO-SUCH')`, nil, apperr.Invalid, "institution_code"},
		{"unique", `INSERT INTO staff (code, name) VALUES ('dup', 'x')`, nil, apperr.Conflict, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, raw := db.DB.DB.ExecContext(ctx, c.sql, c.args...)
			var pe *pq.Error
			if !errors.As(raw, &pe) {
				t.Fatalf("no database error: %v", raw)
			}
			err := postgres.Translate(raw)
			e, ok := apperr.As(err)
			if !ok || e.Code != c.code {
				t.Fatalf("%v: got %v", pe.Code, err)
			}
			shown := e.Message
			for _, f := range e.Fields {
				shown += " " + f.Field + " " + f.Reason
			}
			if strings.Contains(shown, pe.Message) || (pe.Constraint != "" && strings.Contains(shown, pe.Constraint)) {
				t.Fatalf("database text shown: %q (database said %q, constraint %q)", shown, pe.Message, pe.Constraint)
			}
			if !hasHan(shown) {
				t.Fatalf("not Chinese: %q", shown)
			}
			got := ""
			if len(e.Fields) > 0 {
				got = e.Fields[0].Field
			}
			if got != c.field {
				t.Fatalf("field %q, want %q (%s)", got, c.field, shown)
			}
			if !errors.As(err, &pe) {
				t.Fatal("the driver error is not kept for the log")
			}
		})
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
