package httpapi_test

import (
	"encoding/json"

	"healthrec/internal/civil"
	"healthrec/internal/review"
)

// proc posts a step the way the procedure asks (pgtest.Fixture.Step over
// HTTP): the panel added once, the group (the caller and rev2) formed before
// a determination, the decision recorded by lead1 for a meeting of the
// leading group today, with a reason when the outcome leaves the matrix, and
// the review by rev3.
func (c *client) proc(id string, body map[string]any, want int) response {
	e := c.e
	e.t.Helper()
	e.f.EnsurePanel(e.t, e.db)
	actor := c
	get := c.req("GET", "/api/v1/cases/"+id, nil)
	raw, _ := json.Marshal(get.Body)
	var cs review.Case
	_ = json.Unmarshal(raw, &cs)
	switch {
	case body["to"] == "determined" && cs.State != review.Determined && len(cs.Group) == 0:
		code := ""
		if s := c.me(); s != "" {
			code = s
		}
		if r := c.req("POST", "/api/v1/cases/"+id+"/group", map[string]any{"members": []string{code, "rev2"}}); r.Status != 200 {
			e.t.Fatalf("group: %d %s", r.Status, r.Raw)
		}
	case body["to"] == "decided" && body["meeting"] == nil:
		m := map[string]any{"date": civil.Of(e.now).String(), "body": "局务会", "members_present": []string{"lead1", "lead2"}}
		if o, _ := body["outcome"].(string); review.Deviation(cs.SubjectType, cs.Responsibility, cs.Severity, review.Outcome(o)) != "" {
			m["deviation_reason"] = "态度端正，已主动整改"
		}
		body["meeting"] = m
		actor = e.login("lead1")
	case body["to"] == "reviewed":
		actor = e.login("rev3")
	}
	return actor.step(id, body, want)
}

// me is the signed-in staff code.
func (c *client) me() string {
	r := c.req("GET", "/api/v1/me", nil)
	code, _ := r.Body["staff_code"].(string)
	return code
}
