// Package pgcluster runs a private PostgreSQL cluster in a data directory, so
// that the service (and the test suite) need nothing but the PostgreSQL server
// binaries on the machine.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Cluster is a running PostgreSQL cluster.
type Cluster struct {
	Dir  string
	Port int
	// Secrets are the roles' passwords, kept in SecretsFile.
	Secrets Secrets

	bin     string
	cred    *cred
	opts    Options
	sockDir string // the Unix socket's directory when backups are on
	realDir string // Dir with symbolic links resolved, as /proc shows a working directory
	log     *slog.Logger

	mu       sync.Mutex
	started  bool // false when we attached to a server already running in Dir
	status   Status
	stopSup  context.CancelFunc
	supDone  chan struct{}
	stopping bool
}

// ErrNoBinaries says the PostgreSQL server binaries are missing.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin; " +
	"install them (Debian/Ubuntu: apt-get install -y postgresql) or set DATABASE_URL to an existing server")

// FindBinaries returns the directory holding initdb and pg_ctl: PATH first,
// then the newest /usr/lib/postgresql/<version>/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// Start initialises dir when it holds no cluster yet, and starts PostgreSQL on a
// free loopback port. When a server from an earlier run is still running in
// dir, Start attaches to it instead and Stop leaves it running. A
// postmaster.pid that names no live server of dir is stale and removed.
//
// Every connection authenticates with a password (scram-sha-256): Start
// generates the passwords of the bootstrap superuser, the owner and the app
// role into SecretsFile, and creates the two roles. A cluster of an earlier
// version, which trusted every local connection, is secured in place.
//
// PostgreSQL refuses to run as root, so a root process runs the cluster as the
// unprivileged "postgres" user.
func Start(ctx context.Context, dir string, log *slog.Logger) (*Cluster, error) {
	return StartWith(ctx, dir, log, Options{})
}

// StartWith is Start with options: with opts.BackupRepo, WAL is archived
// into that pgBackRest repository (backup.go). A cluster restored by Restore
// starts in recovery; StartWith returns once it accepts writes.
func StartWith(ctx context.Context, dir string, log *slog.Logger, opts Options) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin, log: log, opts: opts}
	if os.Geteuid() == 0 {
		if c.cred, err = unprivilegedCredential(); err != nil {
			return nil, err
		}
	}
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	if c.realDir, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, err
	}
	insecure := false
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	} else {
		ok, err := c.loadSecrets()
		if err != nil {
			return nil, err
		}
		trusts, err := hbaTrusts(dir)
		if err != nil {
			return nil, err
		}
		if !ok {
			if !trusts {
				return nil, fmt.Errorf("%s is missing from %s and pg_hba.conf asks for passwords: restore the file", SecretsFile, dir)
			}
			c.Secrets = newSecrets()
			if err := c.saveSecrets(); err != nil {
				return nil, err
			}
		}
		insecure = trusts
	}
	if err := c.configureArchiving(); err != nil {
		return nil, err
	}
	_, statErr := os.Stat(filepath.Join(dir, "recovery.signal"))
	recovering := statErr == nil
	if err := c.startServer(ctx); err != nil {
		return nil, err
	}
	if recovering {
		c.log.Info("replaying archived WAL to the restore's target", "dir", dir)
		if err := c.waitPromoted(ctx, 30*time.Minute); err != nil {
			c.Stop()
			return nil, err
		}
	}
	if insecure {
		if err := c.secure(ctx); err != nil {
			c.Stop()
			return nil, err
		}
	}
	if err := c.ensureRoles(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.ensureStanza(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// initdb creates the cluster with password authentication from the start:
// the superuser's password goes in through a file only the cluster's user
// reads.
func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("initialising PostgreSQL cluster", "dir", c.Dir)
	c.Secrets = newSecrets()
	tmp, err := os.MkdirTemp("", "pgcluster-pw-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pw := filepath.Join(tmp, "pw")
	if err := os.WriteFile(pw, []byte(c.Secrets.Superuser+"\n"), 0o600); err != nil {
		return err
	}
	if c.cred != nil {
		for _, p := range []string{tmp, pw} {
			if err := os.Chown(p, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return err
			}
		}
	}
	// Text sorts byte by byte (LC_COLLATE C), which for UTF-8 is the order
	// of code points that C.UTF-8 gives too, without a call into the C
	// library per comparison (the entries' index by record builds 13-20 %
	// faster, docs/benchmarks.md), and no upgrade of the C library can
	// reorder what an index holds. Character classes stay C.UTF-8's.
	if out, err := c.run(ctx, "initdb", "-D", c.Dir, "-U", Superuser, "--auth=scram-sha-256", "--pwfile="+pw,
		"--encoding=UTF8", "--locale=C.UTF-8", "--lc-collate=C"); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := c.writeOwned("pg_hba.conf", []byte(hbaConf)); err != nil {
		return err
	}
	return c.saveSecrets()
}

// startServer attaches to a live postmaster of the directory, or clears a
// stale postmaster.pid and starts one: on c.Port when set (a restart keeps
// the address the service's connections use), else on a free port.
func (c *Cluster) startServer(ctx context.Context) error {
	err := c.clearStalePid(30 * time.Second)
	if errors.Is(err, errAlive) {
		pf, _ := readPidFile(c.Dir)
		c.Port = pf.port
		c.setStatus(StateRunning, pf.pid, "")
		c.log.Info("attached to running PostgreSQL", "dir", c.Dir, "port", c.Port, "pid", pf.pid)
		return nil
	}
	if err != nil {
		return err
	}
	if c.Port == 0 {
		if c.Port, err = freePort(); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='%s' -c max_connections=200 -c password_encryption=scram-sha-256", c.Port, c.sockDir)
	logFile := filepath.Join(c.Dir, "server.log")
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-o", opts, "-l", logFile, "-w", "-t", "120", "start"); err != nil {
		tail, _ := os.ReadFile(logFile)
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, lastLines(tail, 20))
	}
	pf, _ := readPidFile(c.Dir)
	c.mu.Lock()
	c.started = true
	c.mu.Unlock()
	c.setStatus(StateRunning, pf.pid, "")
	c.log.Info("started PostgreSQL", "dir", c.Dir, "port", c.Port, "pid", pf.pid)
	return nil
}

// Stop stops the supervisor, and the server if Start (or the supervisor)
// started it.
func (c *Cluster) Stop() error {
	if c == nil {
		return nil
	}
	c.stopSupervisor()
	c.mu.Lock()
	started := c.started
	c.mu.Unlock()
	if !started {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if c.opts.BackupRepo != "" {
		c.switchWAL(ctx)
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	c.mu.Lock()
	c.started = false
	c.mu.Unlock()
	c.setStatus(StateStopped, 0, "")
	c.log.Info("stopped PostgreSQL", "dir", c.Dir)
	return nil
}

// Kill stops the server immediately, as a crash would. Fault tests use it.
func (c *Cluster) Kill() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "immediate", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Restart starts a stopped server again on the same port.
func (c *Cluster) Restart(ctx context.Context) error {
	return c.startServer(ctx)
}

// PID returns the postmaster's process ID from postmaster.pid (0 if none).
func (c *Cluster) PID() int {
	pf, _ := readPidFile(c.Dir)
	return pf.pid
}

func (c *Cluster) prepareDir() error {
	// Parents must stay traversable for the cluster's owner; the cluster
	// directory itself is private, as PostgreSQL insists.
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if c.cred == nil {
		return nil
	}
	// The cluster's owner must own the directory, and reach it through its parents.
	return filepath.Walk(c.Dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(c.cred.Uid), int(c.cred.Gid))
	})
}

// cred is the user a root process runs the cluster's programs as.
type cred = syscall.Credential

func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return c.runEnv(ctx, nil, filepath.Join(c.bin, name), args...)
}

// runEnv runs a program (a path, or a name looked up on PATH) as the
// cluster's user with env added to the environment.
func (c *Cluster) runEnv(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/"
	cmd.Env = append(append(os.Environ(), "LC_ALL=C.UTF-8"), env...)
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	// pg_ctl start leaves the server holding its stdout, so never wait on pipes.
	var out bytes.Buffer
	f, err := os.CreateTemp("", "pgcluster-*.out")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	runErr := cmd.Run()
	_, _ = f.Seek(0, 0)
	_, _ = out.ReadFrom(f)
	return out.Bytes(), runErr
}

func unprivilegedCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root: PostgreSQL must run as an unprivileged user, and no 'postgres' user exists " +
			"(install PostgreSQL with apt-get install -y postgresql, which creates it, or run as a normal user)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
