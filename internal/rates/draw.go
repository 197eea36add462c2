package rates

import (
	"math"
	"math/bits"
	"strconv"
)

// DrawKey is the key that orders a draw group's records for the sample: the
// records with the smallest keys (then the smallest record IDs) are drawn.
//
// It is PostgreSQL's hashint8extended(record_id::bigint, seed) — Bob
// Jenkins' lookup3 mix on the record ID's value, seeded — which the
// database computes in tens of nanoseconds where an MD5 digest costs ten
// times as much at county scale. It works on integer values, not bytes, so
// it is the same on every platform, and this Go copy (kept equal to the
// database's by a test) lets anyone recompute a draw.
func DrawKey(seed int64, recordID string) (int64, bool) {
	v, err := strconv.ParseInt(recordID, 10, 64)
	if err != nil {
		return 0, false
	}
	lo, hi := uint32(v), uint32(uint64(v)>>32)
	if v >= 0 {
		lo ^= hi
	} else {
		lo ^= ^hi
	}
	return int64(hashUint32Extended(lo, uint64(seed))), true
}

// hashUint32Extended is PostgreSQL's hash_uint32_extended (hashfn.c).
func hashUint32Extended(k uint32, seed uint64) uint64 {
	a := uint32(0x9e3779b9 + 4 + 3923095)
	b, c := a, a
	if seed != 0 {
		a += uint32(seed >> 32)
		b += uint32(seed)
		// mix(a, b, c)
		a -= c
		a ^= bits.RotateLeft32(c, 4)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 6)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 8)
		b += a
		a -= c
		a ^= bits.RotateLeft32(c, 16)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 19)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 4)
		b += a
	}
	a += k
	// final(a, b, c)
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return uint64(b)<<32 | uint64(c)
}

// DrawThreshold returns a key bound for a group of size records from which n
// are drawn: the group's n smallest keys are below it with overwhelming
// probability (the expected count below it is n + 6√n + 20, six standard
// deviations above n), so storage needs to sort only the records under it.
// Storage checks that at least n fell under and redraws the group without
// the bound otherwise, so the draw never depends on the bound. full is true
// when the whole group is drawn anyway.
func DrawThreshold(size, n int) (bound int64, full bool) {
	if size <= n {
		return math.MaxInt64, true
	}
	p := (float64(n) + 6*math.Sqrt(float64(n)) + 20) / float64(size)
	if p >= 1 {
		return math.MaxInt64, true
	}
	b := math.MinInt64 + p*math.Pow(2, 64)
	if b >= math.MaxInt64 {
		return math.MaxInt64, true
	}
	return int64(b), false
}
