package httpapi

import (
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/review"
)

func calendarYear(c *gin.Context) (int, bool) {
	n, ok := atoiPositive(c.Param("year"))
	if !ok || n < 1900 || n > 9999 {
		c.Error(apperr.InvalidField("year", "年份应为 1900–9999 的整数"))
		return 0, false
	}
	return n, true
}

func (s *Server) getCalendar(c *gin.Context) {
	year, ok := calendarYear(c)
	if !ok {
		return
	}
	out, err := s.db.CalendarYear(c.Request.Context(), year)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// calendarBody is the JSON form of PUT /calendar/{year}.
type calendarBody struct {
	Holidays []civil.Date `json:"holidays"`
	Workdays []civil.Date `json:"workdays"`
}

// putCalendar replaces a year's holidays and make-up working days, from JSON
// or, with Content-Type text/csv, from a `date,kind` file. Open cases'
// deadlines follow.
func (s *Server) putCalendar(c *gin.Context) {
	year, ok := calendarYear(c)
	if !ok {
		return
	}
	var y *review.CalendarYear
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt == "text/csv" {
		var err error
		if y, err = review.ParseCalendarCSV(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody), year); err != nil {
			c.Error(err)
			return
		}
	} else {
		var b calendarBody
		if err := decode(c, &b); err != nil {
			c.Error(err)
			return
		}
		y = &review.CalendarYear{Year: year, Holidays: b.Holidays, Workdays: b.Workdays}
	}
	if err := s.db.PutCalendarYear(c.Request.Context(), principal(c).Staff.Code, y); err != nil {
		c.Error(err)
		return
	}
	out, err := s.db.CalendarYear(c.Request.Context(), year)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
