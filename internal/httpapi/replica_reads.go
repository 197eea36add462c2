package httpapi

import (
	"time"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
)

// laggedRead runs read on the store for lag-tolerant reads (lagged: the
// replica when there is one). What the replica has not replayed yet — a
// snapshot published a moment ago, a scope just registered — it does not
// find; then read runs again on the primary, and the answer says so.
// Trends and the snapshots' exports read this way.
func (s *Server) laggedRead(c *gin.Context, read func(db *postgres.DB) error) error {
	db := s.lagged(c)
	err := read(db)
	if db != s.db && apperr.CodeOf(err) == apperr.NotFound {
		c.Header(HeaderDataAsOf, s.db.Now().UTC().Format(time.RFC3339Nano))
		c.Header(HeaderDataSource, "primary")
		return read(s.db)
	}
	return err
}
