package pgcluster

import (
	"runtime"
	"testing"
)

// TestSharedBuffersFor: a quarter of the memory, between PostgreSQL's
// default and 8 GB; unknown memory gives the default.
func TestSharedBuffersFor(t *testing.T) {
	for _, c := range []struct {
		memory int64
		want   string
	}{
		{0, "128MB"},
		{256 << 20, "128MB"},
		{2 << 30, "512MB"},
		{24 << 30, "6144MB"},
		{64 << 30, "8192MB"},
	} {
		if got := sharedBuffersFor(c.memory); got != c.want {
			t.Errorf("sharedBuffersFor(%d) = %s, want %s", c.memory, got, c.want)
		}
	}
	if m := availableMemory(); runtime.GOOS == "linux" && m <= 0 {
		t.Errorf("available memory %d: /proc/meminfo unread", m)
	}
}
