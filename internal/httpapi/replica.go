package httpapi

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"healthrec/internal/postgres"
)

// HeaderDataAsOf states, on answers that may come from a streaming replica,
// the time up to which their data is current (RFC 3339); HeaderDataSource
// says "replica" or "primary".
const (
	HeaderDataAsOf   = "X-Data-As-Of"
	HeaderDataSource = "X-Data-Source"
)

// lagged is the store for reads that tolerate replication lag: the rates
// report and its CSV/PDF, the drill-down and the follow-up work list. With
// a replica (DATABASE_REPLICA_URL) they read it and say how current it is;
// when the replica does not answer, or cannot tell how current it is, they
// read the primary. Writes, the access log and every read of a single
// record for care stay on the primary (s.db).
func (s *Server) lagged(c *gin.Context) *postgres.DB {
	if s.cfg.Replica != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), time.Second)
		asOf, err := s.cfg.Replica.DataAsOf(ctx)
		cancel()
		if err == nil && !asOf.IsZero() {
			c.Header(HeaderDataAsOf, asOf.UTC().Format(time.RFC3339Nano))
			c.Header(HeaderDataSource, "replica")
			return s.cfg.Replica
		}
		s.log.Warn("replica unavailable for a lag-tolerant read; reading the primary", "err", err)
	}
	c.Header(HeaderDataAsOf, s.db.Now().UTC().Format(time.RFC3339Nano))
	c.Header(HeaderDataSource, "primary")
	return s.db
}
