package importer

import "testing"

func TestBlocksKeepOrder(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 8} {
		b := blocks[int]{size: 3}
		for i := range n {
			b.add(i)
		}
		got := b.all()
		if len(got) != n {
			t.Fatalf("%d rows: got %v", n, got)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("%d rows: got %v", n, got)
			}
		}
	}
}
