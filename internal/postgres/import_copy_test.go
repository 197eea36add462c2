package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"healthrec/internal/civil"
	"healthrec/internal/postgres"
	"healthrec/internal/postgres/pgtest"
)

// jsonText is a driver.Valuer, as the importer's JSON columns are.
type jsonText string

func (j jsonText) Value() (driver.Value, error) { return string(j), nil }

// TestCopyTextFormat: the import's COPY writes each value as PostgreSQL
// reads it back — text with COPY's special characters, NULL, integers,
// floats, booleans, a Valuer's value — over more than one chunk, and a bad
// row fails the COPY with PostgreSQL's error.
func TestCopyTextFormat(t *testing.T) {
	ctx := context.Background()
	db, tx := ownerImport(t)
	if err := tx.Exec(ctx, `CREATE TEMPORARY TABLE copied (n int, s text, i bigint, f float8, b boolean, j jsonb)`); err != nil {
		t.Fatal(err)
	}
	awkward := "tab\there\nnew line\r\\N back\\slash 汉字 \\\\"
	rows := [][]any{
		{int64(1), awkward, int64(math.MinInt64), 0.1, true, jsonText(`{"a": "x\ty"}`)},
		{int64(2), nil, nil, nil, nil, nil},
		{int64(3), "", int64(42), -1e-7, false, `{}`},
	}
	long := strings.Repeat("长", 30000) // 90 KB: a row larger than a chunk
	rows = append(rows, []any{int64(4), long, nil, nil, nil, nil})
	for n := int64(5); n < 3000; n++ {
		rows = append(rows, []any{n, "row", n, float64(n) / 3, n%2 == 0, nil})
	}
	n, err := tx.CopyRows(ctx, "copied", []string{"n", "s", "i", "f", "b", "j"}, rows)
	if err != nil || n != len(rows) {
		t.Fatalf("copied %d rows, %v; want %d", n, err, len(rows))
	}
	type row struct {
		S sql.NullString  `db:"s"`
		I sql.NullInt64   `db:"i"`
		F sql.NullFloat64 `db:"f"`
		B sql.NullBool    `db:"b"`
		J sql.NullString  `db:"j"`
	}
	get := func(n int) row {
		var r row
		if err := tx.Get(ctx, &r, `SELECT s, i, f, b, j::text AS j FROM copied WHERE n = $1`, n); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := get(1); r.S.String != awkward || r.I.Int64 != math.MinInt64 || r.F.Float64 != 0.1 || !r.B.Bool || r.J.String != `{"a": "x\ty"}` {
		t.Errorf("row 1 came back as %+v", r)
	}
	if r := get(2); r.S.Valid || r.I.Valid || r.F.Valid || r.B.Valid || r.J.Valid {
		t.Errorf("row 2 of NULLs came back as %+v", r)
	}
	if r := get(3); !r.S.Valid || r.S.String != "" || r.F.Float64 != -1e-7 || r.B.Bool || r.J.String != "{}" {
		t.Errorf("row 3 came back as %+v", r)
	}
	if r := get(4); r.S.String != long {
		t.Errorf("the long row came back %d bytes long, want %d", len(r.S.String), len(long))
	}
	var sum struct {
		Count int64 `db:"count"`
		Sum   int64 `db:"sum"`
	}
	if err := tx.Get(ctx, &sum, `SELECT count(*), sum(i) FILTER (WHERE n >= 5) AS sum FROM copied`); err != nil {
		t.Fatal(err)
	}
	if want := int64(2999*3000/2 - 10); sum.Count != int64(len(rows)) || sum.Sum != want {
		t.Errorf("%d rows summing %d, want %d and %d", sum.Count, sum.Sum, len(rows), want)
	}

	// The same rows kept in a spool first (as the import's exams wait while
	// the entries' COPY runs) come back the same, the row longer than the
	// spool's buffer included.
	if err := tx.Exec(ctx, `CREATE TEMPORARY TABLE spooled (LIKE copied)`); err != nil {
		t.Fatal(err)
	}
	if n, err := tx.SpoolRows(ctx, "spooled", []string{"n", "s", "i", "f", "b", "j"}, rows); err != nil || n != len(rows) {
		t.Fatalf("spooled %d rows, %v; want %d", n, err, len(rows))
	}
	var differ int
	if err := tx.Get(ctx, &differ, `SELECT count(*) FROM ((TABLE copied EXCEPT ALL TABLE spooled) UNION ALL (TABLE spooled EXCEPT ALL TABLE copied)) d`); err != nil {
		t.Fatal(err)
	}
	if differ != 0 {
		t.Errorf("%d rows differ between the COPY and the spool's", differ)
	}

	// A type the format does not know is refused before anything is sent;
	// a value PostgreSQL refuses fails the COPY at its end.
	if _, err := tx.CopyRows(ctx, "copied", []string{"n"}, [][]any{{int32(1)}}); err == nil || !strings.Contains(err.Error(), "int32") {
		t.Errorf("an int32 copied: %v", err)
	}
	tx2, err := db.BeginImport(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback()
	if err := tx2.Exec(ctx, `CREATE TEMPORARY TABLE copied (n int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx2.CopyRows(ctx, "copied", []string{"n"}, [][]any{{int64(1)}, {"not a number"}}); err == nil {
		t.Errorf("a bad row copied: %v", err)
	}
}

// TestImportGivesItsConnectionBack: an import holds a connection of its own
// for its COPYs and gives it back to the pool when it commits, rolls back,
// or is rolled back after a commit.
func TestImportGivesItsConnectionBack(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Owner(t, pgtest.NewDB(t))
	inUse := func(when string, want int) {
		t.Helper()
		if n := db.Stats().InUse; n != want {
			t.Errorf("%s: %d connections in use, want %d", when, n, want)
		}
	}
	for _, commit := range []bool{true, false} {
		tx, err := db.BeginImport(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		inUse("during the import", 1)
		if err := tx.Exec(ctx, `CREATE TEMPORARY TABLE copied (n int) ON COMMIT DROP`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.CopyRows(ctx, "copied", []string{"n"}, [][]any{{int64(1)}}); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.CommitOnly(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		inUse("after the import", 0)
	}
}

// TestCopyTypedValues: the typed writers of the import's rows (no value
// boxed) write what PostgreSQL reads back as the value, NULL for an empty
// optional one.
func TestCopyTypedValues(t *testing.T) {
	ctx := context.Background()
	_, tx := ownerImport(t)
	if err := tx.Exec(ctx, `CREATE TEMPORARY TABLE typed (n serial, t text, tn text, d date, i int, f float8, j jsonb)`); err != nil {
		t.Fatal(err)
	}
	i, f := -130, 55.25
	rows := []postgres.TypedRow{
		{T: "a\tb\\c\n汉字", TN: "x", D: civil.MustParse("2024-02-29"), I: &i, F: &f, J: []byte(`{"a": "x\ty"}`)},
		{T: ""},
	}
	if n, err := tx.CopyTypedRows(ctx, "typed", rows); err != nil || n != 2 {
		t.Fatalf("copied %d rows, %v", n, err)
	}
	type row struct {
		T  string          `db:"t"`
		TN sql.NullString  `db:"tn"`
		D  sql.NullString  `db:"d"`
		I  sql.NullInt64   `db:"i"`
		F  sql.NullFloat64 `db:"f"`
		J  string          `db:"j"`
	}
	var got []row
	if err := tx.Select(ctx, &got, `SELECT t, tn, d::text AS d, i, f, j::text AS j FROM typed ORDER BY n`); err != nil {
		t.Fatal(err)
	}
	want := []row{
		{T: rows[0].T, TN: sql.NullString{String: "x", Valid: true}, D: sql.NullString{String: "2024-02-29", Valid: true},
			I: sql.NullInt64{Int64: -130, Valid: true}, F: sql.NullFloat64{Float64: 55.25, Valid: true}, J: `{"a": "x\ty"}`},
		{J: `{"none": true}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("came back as %+v, want %+v", got, want)
	}
}

// ownerImport begins an import on a new database as its owner (who may
// create the tests' temporary tables); it is rolled back when the test ends.
func ownerImport(t *testing.T) (*postgres.DB, *postgres.ImportTx) {
	t.Helper()
	db := pgtest.Owner(t, pgtest.NewDB(t))
	tx, err := db.BeginImport(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return db, tx
}

// TestCopyCSV: a CSV file goes into its table as PostgreSQL reads the file,
// whatever falls on a chunk's edge — quoted commas, quotes and newlines, a
// line longer than a chunk, no newline at the end — and a bad line fails it.
func TestCopyCSV(t *testing.T) {
	ctx := context.Background()
	owner := pgtest.Owner(t, pgtest.NewDB(t))
	conn, err := owner.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE copied (n int, s text)`); err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	var want []string
	file.WriteString("n,s\n")
	for n := 1; n <= 20000; n++ {
		s := fmt.Sprintf("行 %d", n)
		switch n % 7 {
		case 1:
			s = "a, \"quoted\"\nsecond line"
		case 2:
			s = strings.Repeat("长", 30000) // 90 KB: longer than a chunk
		}
		want = append(want, fmt.Sprintf("%d %s", n, s))
		fmt.Fprintf(&file, "%d,\"%s\"", n, strings.ReplaceAll(s, `"`, `""`))
		if n < 20000 {
			file.WriteString("\n")
		}
	}
	n, err := postgres.CopyCSV(ctx, conn, "copied", strings.NewReader(file.String()))
	if err != nil || n != 20000 {
		t.Fatalf("%d rows copied (%v), want 20000", n, err)
	}
	var got []string
	if err := tx.SelectContext(ctx, &got, `SELECT n || ' ' || s FROM copied ORDER BY n`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%d rows read back, want %d; the first differing:", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("  got %.60q\n  want %.60q", got[i], want[i])
				break
			}
		}
	}
	if _, err := postgres.CopyCSV(ctx, conn, "copied", strings.NewReader("n,s\n1,a\nx,b\n")); err == nil {
		t.Error("a line whose n is no integer: no error")
	}
}
