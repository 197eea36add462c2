package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidFile is what postmaster.pid says: the postmaster's process ID and the
// port it listens on.
type pidFile struct {
	pid  int
	port int
}

func readPidFile(dir string) (pidFile, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, false
	}
	lines := strings.Split(string(b), "\n")
	var pf pidFile
	pf.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	if len(lines) >= 4 {
		pf.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	return pf, true
}

// hasProc reports whether /proc can tell what a process is; elsewhere only
// the signal test that pg_ctl itself uses is available.
func hasProc() bool {
	_, err := os.Stat("/proc/self/cwd")
	return err == nil
}

// isPostmasterOf reports whether pid is a live PostgreSQL server process
// whose working directory is dir. A postmaster changes into its data
// directory, and its children inherit that. A process ID alone is not
// enough: after kill -9 the ID may be a zombie nobody reaps, or be reused by
// an unrelated process. PostgreSQL's own lock-file check (kill(pid, 0))
// then takes a dead server for a live one, and pg_ctl start refuses.
func isPostmasterOf(pid int, dir string) bool {
	if pid <= 0 {
		return false
	}
	if !hasProc() {
		err := syscall.Kill(pid, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
	return isServerProcess(strconv.Itoa(pid), dir)
}

func isServerProcess(pid, dir string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain them.
	if i := strings.LastIndexByte(string(stat), ')'); i < 0 || i+2 >= len(stat) || strings.ContainsRune("ZXx", rune(stat[i+2])) {
		return false
	}
	exe, err := os.Readlink("/proc/" + pid + "/exe")
	if err != nil || !strings.HasPrefix(filepath.Base(exe), "postgres") {
		return false
	}
	cwd, err := os.Readlink("/proc/" + pid + "/cwd")
	return err == nil && cwd == dir
}

// serverProcesses lists the live PostgreSQL processes working in dir.
func serverProcesses(dir string) []int {
	if !hasProc() {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if isServerProcess(e.Name(), dir) {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// clearStalePid removes a postmaster.pid that names no live postmaster of
// this directory, as PostgreSQL itself would treat a lock file whose process
// is gone. Backends of a killed postmaster still hold its shared memory for
// a moment and exit once they notice; a new server must not start under
// them, so clearStalePid waits for them first.
func (c *Cluster) clearStalePid(wait time.Duration) error {
	pf, ok := readPidFile(c.Dir)
	if !ok {
		return nil
	}
	if isPostmasterOf(pf.pid, c.realDir) {
		return errAlive
	}
	deadline := time.Now().Add(wait)
	for {
		left := serverProcesses(c.realDir)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes of an earlier PostgreSQL server still run in %s (pids %v); stop them first", c.Dir, left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := os.Remove(filepath.Join(c.Dir, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	c.log.Warn("removed a stale postmaster.pid: no PostgreSQL server of this directory runs under its process ID", "dir", c.Dir, "pid", pf.pid)
	return nil
}

var errAlive = errors.New("a postmaster of this directory is running")
