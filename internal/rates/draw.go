package rates

import (
	"crypto/md5"
	"encoding/binary"
	"math/bits"
	"sort"
	"strconv"
)

// The draw of a numeric sample (docs/rates.md). Every record has a fixed
// place in one pseudo-random cyclic order, its RecordKey. A seed's sample of
// a draw group starts at one of the group's active records, its anchor,
// chosen by the seed with equal chance for each (DrawAnchor), and takes the
// n active records from there in the draw order, wrapping around past the
// end: Draw. So every record of a group is in exactly n of the group's
// possible samples — each record has the same chance, n in the group's size —
// and since the order is a hash of the record ID, unrelated to anything
// about the record, a sample is as good as a simple random one. Storage
// keeps the order in an index, so drawing a group reads about n entries.
//
// (Starting at a point of the key space chosen by the seed, rather than at
// a record, would be simpler, but a record would then be drawn with a
// chance proportional to the gap before its stretch of keys — fixed for
// life, so the same records would be favoured every year.)

// RecordKey is a record's place in the draw order: PostgreSQL's
// hashint8extended(record_id::bigint, 0) — Bob Jenkins' lookup3 mix of the
// record ID's value — which the database computes in tens of nanoseconds
// and indexes. It works on integer values, not bytes, so it is the same on
// every platform; this Go copy is kept equal to the database's by a test.
func RecordKey(recordID string) (int64, bool) {
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
	return int64(hashUint32Extended(lo, 0)), true
}

// DrawHash is the seed's number for a draw group (the responsible doctor's
// staff code, or "#" and the village code for records without one): the
// first 8 bytes of MD5("<seed>:<group>"), big-endian. In SQL:
// ('x' || substr(md5(seed::text || ':' || grp), 1, 16))::bit(64)::bigint,
// read as unsigned.
func DrawHash(seed int64, group string) uint64 {
	sum := md5.Sum([]byte(strconv.FormatInt(seed, 10) + ":" + group))
	return binary.BigEndian.Uint64(sum[:8])
}

// DrawAnchor is the index, in record ID order, of the active record of a
// group of size records where the seed's draw starts: DrawHash modulo size.
func DrawAnchor(seed int64, group string, size int) int {
	if size <= 0 {
		return 0
	}
	return int(DrawHash(seed, group) % uint64(size))
}

// Draw returns the sample of n records drawn with seed from a draw group:
// of ids, the group's records active at the as-of date, the n (or all, if
// fewer) from the anchor — DrawAnchor's record in record ID order — on, in
// the order of RecordKey then record ID, wrapping around; in that order. IDs
// that are not record IDs are left out.
func Draw(seed int64, group string, ids []string, n int) []string {
	type keyed struct {
		id  string
		key int64
	}
	ks := make([]keyed, 0, len(ids))
	for _, id := range ids {
		if k, ok := RecordKey(id); ok {
			ks = append(ks, keyed{id, k})
		}
	}
	if len(ks) == 0 {
		return []string{}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].id < ks[j].id })
	anchor := ks[DrawAnchor(seed, group, len(ks))]
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].key != ks[j].key {
			return ks[i].key < ks[j].key
		}
		return ks[i].id < ks[j].id
	})
	at := sort.Search(len(ks), func(i int) bool {
		return ks[i].key > anchor.key || ks[i].key == anchor.key && ks[i].id >= anchor.id
	})
	out := make([]string, 0, min(n, len(ks)))
	for i := 0; i < min(n, len(ks)); i++ {
		out = append(out, ks[(at+i)%len(ks)].id)
	}
	return out
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
