package rates_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"healthrec/internal/rates"
)

func TestDraw(t *testing.T) {
	var ids []string
	for i := 1; i <= 40; i++ {
		ids = append(ids, fmt.Sprintf("330127100101%04d", i))
	}
	t.Run("same seed same sample, another seed another", func(t *testing.T) {
		a, b := rates.Draw(42, "docA", ids, 10), rates.Draw(42, "docA", ids, 10)
		if len(a) != 10 || strings.Join(a, ",") != strings.Join(b, ",") {
			t.Fatalf("%v, %v", a, b)
		}
		if c := rates.Draw(43, "docA", ids, 10); strings.Join(a, ",") == strings.Join(c, ",") {
			t.Errorf("seeds 42 and 43 drew %v", a)
		}
		if c := rates.Draw(42, "docB", ids, 10); strings.Join(a, ",") == strings.Join(c, ",") {
			t.Errorf("groups docA and docB drew %v", a)
		}
	})
	t.Run("a small group is taken whole", func(t *testing.T) {
		if got := rates.Draw(1, "docA", ids[:7], 10); len(got) != 7 {
			t.Errorf("drew %d of 7", len(got))
		}
	})
	t.Run("a stretch of the draw order from the anchor, wrapping around", func(t *testing.T) {
		byKey := append([]string(nil), ids...)
		sort.Slice(byKey, func(i, j int) bool {
			a, _ := rates.RecordKey(byKey[i])
			b, _ := rates.RecordKey(byKey[j])
			return a < b
		})
		wrapped := 0
		for seed := int64(0); seed < 50; seed++ {
			got := rates.Draw(seed, "docA", ids, 10)
			if anchor := ids[rates.DrawAnchor(seed, "docA", len(ids))]; got[0] != anchor { // ids are in ID order
				t.Fatalf("seed %d: starts at %s, not the anchor %s", seed, got[0], anchor)
			}
			at := slices.Index(byKey, got[0])
			for i, id := range got {
				if want := byKey[(at+i)%len(byKey)]; id != want {
					t.Fatalf("seed %d: %d-th drawn %s, want %s", seed, i, id, want)
				}
			}
			if at+10 > len(byKey) {
				wrapped++
			}
		}
		if wrapped == 0 {
			t.Error("no seed wrapped around")
		}
	})
	t.Run("every record equally likely over seeds", func(t *testing.T) {
		const seeds = 4000
		hits := map[string]int{}
		for seed := int64(0); seed < seeds; seed++ {
			for _, id := range rates.Draw(seed, "docA", ids, 10) {
				hits[id]++
			}
		}
		// Expected 1 in 4 (1,000 of 4,000, standard deviation 27).
		for _, id := range ids {
			if p := float64(hits[id]) / seeds; p < 0.22 || p > 0.28 {
				t.Errorf("%s drawn by %.3f of the seeds, want about 0.25", id, p)
			}
		}
	})
	t.Run("not a record ID", func(t *testing.T) {
		if got := rates.Draw(1, "docA", []string{"x", ids[0]}, 10); len(got) != 1 || got[0] != ids[0] {
			t.Errorf("drew %v", got)
		}
	})
}
