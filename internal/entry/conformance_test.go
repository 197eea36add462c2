package entry_test

import (
	"strings"
	"testing"

	"healthrec/internal/entry"
	"healthrec/internal/entry/entrytest"
)

func TestConformance(t *testing.T) {
	for _, c := range entrytest.ConformanceCases() {
		t.Run(c.Name, func(t *testing.T) {
			var got []string
			for _, it := range entry.Missing(c.Entry) {
				if it.Label == "" {
					t.Errorf("item %s has no label", it.Field)
				}
				got = append(got, it.Field)
			}
			if g := strings.Join(got, " "); g != c.Missing {
				t.Errorf("missing %q, want %q", g, c.Missing)
			}
			if entry.Conforms(c.Entry) != (c.Missing == "") {
				t.Errorf("Conforms = %v", entry.Conforms(c.Entry))
			}
		})
	}
}

// TestEveryKindHasARule: a kind added without its specification would
// never count for usage, silently.
func TestEveryKindHasARule(t *testing.T) {
	for _, k := range entry.Kinds {
		if _, ok := entry.New(k).(entry.Conformer); !ok {
			t.Errorf("kind %s has no conformance rule (entry.Conformer)", k)
		}
	}
}
