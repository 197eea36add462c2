package benchtime

import (
	"errors"
	"testing"
	"time"
)

// TestMeasure: one warm-up run and then the timed runs; a failure in any
// run is the measurement's failure, not a time.
func TestMeasure(t *testing.T) {
	calls := 0
	median, fastest, err := Measure(5, time.Nanosecond, func() error { calls++; return nil })
	if err != nil || calls != 6 || fastest > median {
		t.Errorf("%d calls, median %v, fastest %v, %v; want 6 calls, fastest <= median", calls, median, fastest, err)
	}
	boom := errors.New("boom")
	for _, failAt := range []int{1, 4} {
		calls = 0
		_, _, err := Measure(5, time.Nanosecond, func() error {
			calls++
			if calls == failAt {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) || calls != failAt {
			t.Errorf("failing at call %d: %v after %d calls", failAt, err, calls)
		}
	}
}
