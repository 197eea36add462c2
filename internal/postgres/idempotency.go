package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"healthrec/internal/apperr"
)

// Idempotency identifies one client create: the caller's key and a hash of
// what was sent. A zero Idempotency (no key) does nothing.
type Idempotency struct {
	StaffCode string
	Key       string
	Hash      string
}

// NewIdempotency hashes the request body the key is sent with.
func NewIdempotency(staffCode, key string, body any) Idempotency {
	if key == "" {
		return Idempotency{}
	}
	b, _ := json.Marshal(body)
	h := sha256.Sum256(b)
	return Idempotency{StaffCode: staffCode, Key: key, Hash: hex.EncodeToString(h[:])}
}

// replayed looks up an earlier create under the same key, inside the create's
// transaction. It returns the resource ID of the earlier create, or "" when the
// key is new. A concurrent create with the same key waits for the first to
// commit: the transaction-scoped advisory lock on the key queues them, so the
// second sees the first's key and replays it, also when the resource itself
// has a unique rule (one active enrolment per programme) that would otherwise
// fail first. The same key with a different body is a conflict.
func (k Idempotency) replayed(ctx context.Context, tx *Tx, kind string) (string, error) {
	if k.Key == "" {
		return "", nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, k.StaffCode+":"+k.Key); err != nil {
		return "", err
	}
	var prev struct {
		Hash string `db:"request_hash"`
		Kind string `db:"kind"`
		ID   string `db:"resource_id"`
	}
	err := tx.GetContext(ctx, &prev, `SELECT request_hash, kind, resource_id FROM idempotency_keys WHERE staff_code = $1 AND key = $2`,
		k.StaffCode, k.Key)
	if err != nil {
		if e, ok := apperr.As(translate(err)); ok && e.Code == apperr.NotFound {
			return "", nil
		}
		return "", err
	}
	if err := k.matches(prev.Hash, prev.Kind, kind); err != nil {
		return "", err
	}
	return prev.ID, nil
}

// matches checks an earlier create under the key sent the same body for the
// same kind of resource: the same key with a different body is a conflict.
func (k Idempotency) matches(prevHash, prevKind, kind string) error {
	if prevHash != k.Hash || prevKind != kind {
		return apperr.Conflictf("幂等键 %s 已用于另一条不同的提交", k.Key)
	}
	return nil
}

// remember stores the key with the created resource's ID, in the create's
// transaction. A concurrent duplicate fails here on the primary key, and its
// transaction rolls back, so only one create survives.
func (k Idempotency) remember(ctx context.Context, tx *Tx, kind, id string) error {
	if k.Key == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (staff_code, key, request_hash, kind, resource_id) VALUES ($1, $2, $3, $4, $5)`,
		k.StaffCode, k.Key, k.Hash, kind, id)
	return err
}

// withIdempotency runs create in a transaction unless the key was used before.
// It returns the resource ID and whether it was created now. A concurrent
// duplicate that loses the race is answered with the winner's ID.
func (db *DB) withIdempotency(ctx context.Context, k Idempotency, kind string, create func(tx *Tx) (string, error)) (string, bool, error) {
	return db.writeIdempotent(ctx, k, kind, create)
}

// writeIdempotent is withIdempotency for a write on a record: the gate's
// audit row (Audited) commits with it, a replay's included.
func (db *DB) writeIdempotent(ctx context.Context, k Idempotency, kind string, create func(tx *Tx) (string, error)) (string, bool, error) {
	var id string
	var created bool
	err := db.inWriteTx(ctx, func(tx *Tx) error {
		id, created = "", false // afresh on a retry
		prev, err := k.replayed(ctx, tx, kind)
		if err != nil || prev != "" {
			id = prev
			return err
		}
		if id, err = create(tx); err != nil {
			return err
		}
		created = true
		return k.remember(ctx, tx, kind, id)
	})
	if e, ok := apperr.As(err); ok && e.Code == apperr.Conflict && k.Key != "" && created {
		// Lost the race to a concurrent create with the same key: answer as a replay.
		if winner, prevErr := db.raceWinner(ctx, k, kind); prevErr == nil && winner != "" {
			return winner, false, nil
		}
		return "", false, err
	}
	return id, created, err
}

// raceWinner returns the resource a concurrent create under the same key
// stored, in a transaction of its own: the loser's conflict on the key came
// once the winner had committed. "" when there is none.
func (db *DB) raceWinner(ctx context.Context, k Idempotency, kind string) (string, error) {
	var id string
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		id, err = k.replayed(ctx, tx, kind)
		return err
	})
	return id, err
}
