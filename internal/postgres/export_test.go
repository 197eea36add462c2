package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"

	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/rates"
)

// RateGroups exposes rateGroups to the tests.
func (db *DB) RateGroups(ctx context.Context, county string, p rates.Params) ([]rates.Group, error) {
	var out []rates.Group
	err := db.inSnapshot(ctx, func(tx *Tx) error {
		var err error
		out, err = rateGroups(ctx, tx, county, p)
		return err
	})
	return out, err
}

// SplitDraw sets from how many drawn records a sampled report draws on two
// connections (1: always; math.MaxInt: never) and a function to run between
// the report's export of its snapshot and the second connection's import.
func (db *DB) SplitDraw(from int, hook func()) { db.split = &drawSplit{from: from, hook: hook} }

// DrawsBeside counts the sampled reports since SplitDraw whose draw, and
// whose active counts, were split over two connections.
func (db *DB) DrawsBeside() (draws, counts int64) {
	return db.split.drawn.Load(), db.split.counted.Load()
}

// RateCountsByScan counts a county's records active, qualified and used as
// of a date per village and doctor in one pass over the records, by the
// conditions of a sampled report's draw: what the rate counters must sum to.
func (db *DB) RateCountsByScan(ctx context.Context, county string, asOf civil.Date) ([]rates.Group, error) {
	lo, hi := countyRange(county)
	var out []rates.Group
	err := db.SelectContext(ctx, &out, `SELECT r.village_code AS village, COALESCE(`+doctorAt+`, '') AS doctor,
			count(*) AS active, count(*) AS sampled,
			count(*) FILTER (WHERE `+qualifiedAsOf+`) AS qualified, count(*) FILTER (WHERE `+usedAsOf+`) AS used
		FROM records r WHERE r.village_code BETWEEN $2 AND $3 AND `+activeAt+`
		GROUP BY 1, 2`, asOf, lo, hi)
	return out, err
}

// NoteExam exposes noteExam to the tests, which interleave transactions.
func NoteExam(ctx context.Context, tx *sqlx.Tx, recordID string, id int64, on civil.Date, complete bool) error {
	return noteExam(ctx, &Tx{Tx: tx}, recordID, id, on, complete)
}

// InTx exposes inTx, with its retries, to the tests.
func (db *DB) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return db.inTx(ctx, func(tx *Tx) error { return fn(tx.Tx) })
}

// InsertEntryRaw writes an entry as an import would, unchecked (no
// Validate), and returns the conforming column the database computed.
func (db *DB) InsertEntryRaw(ctx context.Context, e entry.Entry) (bool, error) {
	r, err := toRow(e)
	if err != nil {
		return false, err
	}
	var conforming bool
	err = db.GetContext(ctx, &conforming, `INSERT INTO entries (record_id, kind, service_date, doctor, referral_status, programme, next_date, data, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $4) RETURNING conforming`,
		r.RecordID, r.Kind, r.ServiceDate, r.Doctor, r.ReferralStatus, r.Programme, r.NextDate, string(r.Data))
	return conforming, err
}

// row writes one row of values of the types appendCopyText takes (the
// import's own rows are written value by value, unboxed).
func (w *copyText) row(values ...any) error {
	for _, v := range values {
		if err := w.value(v); err != nil {
			return err
		}
	}
	return w.endRow()
}

// CopyRows runs one COPY of rows into table's columns on the import's
// connection (copier), for the tests of its text format.
func (t *ImportTx) CopyRows(ctx context.Context, table string, columns []string, rows [][]any) (int, error) {
	c, err := t.copyInto(ctx, table, columns...)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		if err := c.row(r...); err != nil {
			c.close()
			return 0, err
		}
	}
	return c.close()
}

// SpoolRows is CopyRows through a spool: the rows are kept in its file
// first and then copied from it, as the import's exams are.
func (t *ImportTx) SpoolRows(ctx context.Context, table string, columns []string, rows [][]any) (int, error) {
	sp, err := newSpool()
	if err != nil {
		return 0, err
	}
	defer sp.remove()
	for _, r := range rows {
		if err := sp.row(r...); err != nil {
			return 0, err
		}
	}
	c, err := t.copyInto(ctx, table, columns...)
	if err != nil {
		return 0, err
	}
	if err := sp.replay(c); err != nil {
		c.close()
		return 0, err
	}
	return c.close()
}

// TypedRow is a row of the typed writers of COPY's text format, for a
// table (t text, tn text, d date, i int, f float8, j jsonb); TN is written
// by textOrNull, J by jsonOr with the default '{"none": true}'.
type TypedRow struct {
	T, TN string
	D     civil.Date
	I     *int
	F     *float64
	J     []byte
}

// CopyTypedRows copies rows by the typed writers the import's COPYs use.
func (t *ImportTx) CopyTypedRows(ctx context.Context, table string, rows []TypedRow) (int, error) {
	c, err := t.copyInto(ctx, table, "t", "tn", "d", "i", "f", "j")
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		c.text(r.T)
		c.textOrNull(r.TN)
		c.date(r.D)
		c.intOrNull(r.I)
		c.floatOrNull(r.F)
		c.jsonOr(r.J, `{"none": true}`)
		if err := c.endRow(); err != nil {
			c.close()
			return 0, err
		}
	}
	return c.close()
}

// Select reads rows of the import's transaction into dest.
func (t *ImportTx) Select(ctx context.Context, dest any, q string, args ...any) error {
	return t.tx.SelectContext(ctx, dest, q, args...)
}

// Exec runs a statement in the import's transaction.
func (t *ImportTx) Exec(ctx context.Context, q string) error {
	_, err := t.tx.ExecContext(ctx, q)
	return err
}

// Get reads one row of the import's transaction into dest.
func (t *ImportTx) Get(ctx context.Context, dest any, q string, args ...any) error {
	return t.tx.GetContext(ctx, dest, q, args...)
}
