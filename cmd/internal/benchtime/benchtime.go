// Package benchtime times the benchmark commands' queries one way: a
// warm-up run, then the median and the fastest of the timed runs.
package benchtime

import (
	"slices"
	"time"
)

// Measure runs fn once to warm up, then runs times, and returns the median
// and the fastest run (on a shared machine the fastest is the least
// disturbed), rounded to round. A failed run fails the measurement: a
// figure of nothing printed as a time would be worse than none.
func Measure(runs int, round time.Duration, fn func() error) (median, fastest time.Duration, err error) {
	if err := fn(); err != nil {
		return 0, 0, err
	}
	ds := make([]time.Duration, max(runs, 1))
	for i := range ds {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, 0, err
		}
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[len(ds)/2].Round(round), ds[0].Round(round), nil
}
