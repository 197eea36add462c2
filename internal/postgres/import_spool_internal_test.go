package postgres

import (
	"math"
	"reflect"
	"testing"
)

// TestSpool: a spooled row comes back with every value and its type, so
// the COPY receives what it would have received directly.
func TestSpool(t *testing.T) {
	sp, err := newSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer sp.remove()
	rows := [][]any{
		{"3301271021010007", "2024-03-01", nil, int64(-130), 55.5, `{"a":"汉字"}`, ""},
		{nil, int64(math.MaxInt64), math.Inf(1), "x\ty\n"},
		{},
	}
	for _, r := range rows {
		if err := sp.row(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.row(int32(1)); err == nil {
		t.Error("an int32 spooled")
	}
	var got [][]any
	if err := sp.replay(func(values ...any) error { got = append(got, append([]any{}, values...)); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Errorf("replayed %#v, want %#v", got, rows)
	}
}
