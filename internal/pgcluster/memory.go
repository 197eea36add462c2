package pgcluster

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Bounds of the embedded cluster's shared_buffers (SharedBuffers).
const (
	minSharedBuffers = 128 << 20 // PostgreSQL's own default
	maxSharedBuffers = 8 << 30
)

// SharedBuffers is the shared_buffers the embedded cluster is started with:
// a quarter of the memory this process may use — the machine's, or its
// container's limit when that is lower — between 128 MB and 8 GB, in MB.
// PostgreSQL's default of 128 MB holds little of a county: a record page
// touches ~150 buffers, and at 128 MB one in nine came from the kernel's
// cache (a system call and an 8 kB copy each) — a fifth of PostgreSQL's
// CPU per page on the 1M county (docs/benchmarks.md).
func SharedBuffers() string {
	return sharedBuffersFor(availableMemory())
}

func sharedBuffersFor(memory int64) string {
	b := memory / 4
	if b < minSharedBuffers {
		b = minSharedBuffers
	}
	if b > maxSharedBuffers {
		b = maxSharedBuffers
	}
	return fmt.Sprintf("%dMB", b>>20)
}

// availableMemory is the smaller of the machine's memory (/proc/meminfo) and
// the memory limit of this process's cgroup (v2, then v1); 0 when neither
// can be read (not Linux), which gives the minimum.
func availableMemory() int64 {
	mem := memTotal()
	for _, limit := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(limit)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && n > 0 && (mem == 0 || n < mem) { // "max" (no limit) does not parse
			mem = n
		}
		break
	}
	return mem
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
