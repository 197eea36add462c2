package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/notify"
	"healthrec/internal/postgres"
)

// inboxRoutes are every signed-in person's inbox (DESIGN §5.8): warnings,
// case events, reminders and access-request events, with an unread count
// for every page's badge and each message's SMS delivery state.
func (s *Server) inboxRoutes(api *gin.RouterGroup) {
	api.GET("/inbox", s.listInbox)
	api.GET("/inbox/unread", s.inboxUnread)
	api.POST("/inbox/read-all", s.inboxReadAll)
	api.POST("/inbox/:id/read", s.inboxRead)
}

// inboxList is a page of messages with the unread count.
type inboxList struct {
	Items   []notify.Message `json:"items"`
	Total   int              `json:"total"`
	Unread  int              `json:"unread"`
	Page    int              `json:"page"`
	PerPage int              `json:"per_page"`
}

// listInbox is GET /inbox?unread=true&kind=: the caller's messages, newest first.
func (s *Server) listInbox(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		c.Error(err)
		return
	}
	f := postgres.InboxFilter{Recipient: principal(c).Staff.Code, Page: pg, Kind: c.Query("kind")}
	var fe apperr.FieldErrors
	switch c.Query("unread") {
	case "", "false":
	case "true":
		f.Unread = true
	default:
		fe.Add("unread", "应为 true 或 false")
	}
	switch f.Kind {
	case "", notify.KindWarning, notify.KindCase, notify.KindReminder, notify.KindAccessRequest:
	default:
		fe.Add("kind", "应为 warning、case、reminder 或 access_request")
	}
	if err := fe.Err(); err != nil {
		c.Error(err)
		return
	}
	items, total, unread, err := s.db.Inbox(c.Request.Context(), f)
	if err != nil {
		c.Error(err)
		return
	}
	l := list(items, total, pg)
	c.JSON(http.StatusOK, inboxList{Items: l.Items, Total: l.Total, Unread: unread, Page: l.Page, PerPage: l.PerPage})
}

// inboxUnread is GET /inbox/unread: {"unread": N}, for the badge.
func (s *Server) inboxUnread(c *gin.Context) {
	n, err := s.db.Unread(c.Request.Context(), principal(c).Staff.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"unread": n})
}

// inboxRead marks one of the caller's messages read; another person's
// message does not exist for them (404).
func (s *Server) inboxRead(c *gin.Context) {
	id, ok := pathID(c, "消息")
	if !ok {
		return
	}
	m, err := s.db.MarkRead(c.Request.Context(), principal(c).Staff.Code, id)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, m)
}

// inboxReadAll marks all the caller's messages read.
func (s *Server) inboxReadAll(c *gin.Context) {
	n, err := s.db.MarkAllRead(c.Request.Context(), principal(c).Staff.Code)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"marked": n})
}
