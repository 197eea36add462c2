package access

import "testing"

func TestPolicyPatterns(t *testing.T) {
	var ps patterns
	path := ps.matchFunc("pathMatch", pathRegexp)
	action := ps.matchFunc("actionMatch", actionRegexp)
	cases := []struct {
		name           string
		match          func(args ...any) (any, error)
		value, pattern string
		want           bool
	}{
		{"exact route", path, "/api/v1/records", "/api/v1/records", true},
		{"parameter is one segment", path, "/api/v1/records/:id", "/api/v1/records/:id", true},
		{"parameter does not span segments", path, "/api/v1/records/1/exams", "/api/v1/records/:id", false},
		{"star covers the rest", path, "/api/v1/records/:id/exams", "/api/v1/records/:id/*", true},
		{"anchored at the end", path, "/api/v1/recordsx", "/api/v1/records", false},
		{"section alternation", path, "record.card", "record.(basic|card)", true},
		{"section alternation anchored", path, "record.cardx", "record.(basic|card)", false},
		{"action alternation", action, "POST", "(GET|POST)", true},
		{"action anchored at the start", action, "unread", "read", false},
		{"action anchored at the end", action, "readx", "read", false},
		{"action alternation anchored", action, "GETX", "(GET|POST)", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for range 2 { // compiled, then cached
				got, err := c.match(c.value, c.pattern)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%q against %q = %v, want %v", c.value, c.pattern, got, c.want)
				}
			}
		})
	}
	if _, err := action("GET", "(GET"); err == nil {
		t.Error("a broken pattern must be an error, not a silent no")
	}
}
