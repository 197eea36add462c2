// Command testcluster starts a throwaway PostgreSQL cluster, runs a command with
// TEST_DATABASE_URL pointing at it, and removes the cluster afterwards. `make
// test` uses it so one go test run shares one cluster. The URL is the
// cluster's superuser's, password included; pgtest uses it only to create
// each package's owner and app roles and databases, and the tests connect as
// the app role.
//
//	go run ./cmd/testcluster -- go test ./...
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"healthrec/internal/pgcluster"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: testcluster -- COMMAND [ARGS…]")
		os.Exit(2)
	}
	os.Exit(run(args))
}

func run(args []string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir, err := os.MkdirTemp("", "healthrec-testcluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	c, err := pgcluster.Start(context.Background(), dir, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testcluster:", err)
		return 1
	}
	defer c.Stop()

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "TEST_DATABASE_URL="+c.URL("postgres"))
	signal.Ignore(syscall.SIGINT) // the child gets it and exits; we then clean up
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "testcluster:", err)
		return 1
	}
	return 0
}
