package postgres

import (
	"context"
	"database/sql"
	"time"
)

// Standby is one walsender of the primary: a streaming standby and how far
// behind it is. The lag columns are NULL for a role without pg_monitor (or
// pg_read_all_stats): PostgreSQL shows only that the standby exists.
type Standby struct {
	Name       string          `db:"application_name"`
	SyncState  sql.NullString  `db:"sync_state"`
	LagSeconds sql.NullFloat64 `db:"lag_seconds"`
	LagBytes   sql.NullFloat64 `db:"lag_bytes"`
}

// ReplicationState is what the server the pool reaches says of replication
// and WAL archiving, for /metrics.
type ReplicationState struct {
	InRecovery bool
	Standbys   []Standby
	// Archived and ArchiveFailed count WAL segments since the statistics
	// were reset; SinceArchived is the age of the last success (NULL when
	// there was none).
	Archived, ArchiveFailed int64
	SinceArchived           sql.NullFloat64
}

// Replication reads pg_stat_replication and pg_stat_archiver.
func (db *DB) Replication(ctx context.Context) (ReplicationState, error) {
	var st ReplicationState
	if err := db.DB.GetContext(ctx, &st.InRecovery, `SELECT pg_is_in_recovery()`); err != nil {
		return st, translate(err)
	}
	if !st.InRecovery {
		if err := db.DB.SelectContext(ctx, &st.Standbys, `SELECT application_name, sync_state,
			extract(epoch FROM replay_lag)::float8 AS lag_seconds,
			pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS lag_bytes
			FROM pg_stat_replication ORDER BY application_name`); err != nil {
			return st, translate(err)
		}
	}
	if err := db.DB.QueryRowxContext(ctx, `SELECT archived_count, failed_count,
		extract(epoch FROM now() - last_archived_time)::float8 FROM pg_stat_archiver`).
		Scan(&st.Archived, &st.ArchiveFailed, &st.SinceArchived); err != nil {
		return st, translate(err)
	}
	return st, nil
}

// DataAsOf is the time up to which this server's data is known to be
// current: now on a primary. On a standby that has replayed all the WAL it
// received, the later of its last replayed commit and its last word from
// the primary (pg_stat_wal_receiver, visible with pg_monitor); with WAL
// still to replay, its last replayed commit. The zero time means the
// standby cannot tell (nothing replayed since it started).
func (db *DB) DataAsOf(ctx context.Context) (time.Time, error) {
	var t sql.NullTime
	err := db.DB.GetContext(ctx, &t, `SELECT CASE
		WHEN NOT pg_is_in_recovery() THEN now()
		WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
			THEN greatest(pg_last_xact_replay_timestamp(), (SELECT last_msg_receipt_time FROM pg_stat_wal_receiver))
		ELSE pg_last_xact_replay_timestamp() END`)
	if err != nil {
		return time.Time{}, translate(err)
	}
	return t.Time, nil
}
