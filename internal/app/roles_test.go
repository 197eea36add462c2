package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"healthrec/internal/postgres/pgtest"
)

// TestServeRefusesPrivilegedRole: with DATABASE_URL, serve refuses a
// superuser and the tables' owner with a message naming the override, and
// accepts them with HEALTHREC_ALLOW_SUPERUSER=1; the app role just serves.
// migrate, given the owner's URL, migrates and grants DATABASE_URL's role.
func TestServeRefusesPrivilegedRole(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := pgtest.NewDB(t)
	appURL, ownerURL := pgtest.AppURL(t, db), pgtest.OwnerURL(t, db)
	if err := Migrate(ctx, Config{DatabaseURL: appURL, OwnerURL: ownerURL}, log); err != nil {
		t.Fatalf("migrate with the owner's URL: %v", err)
	}
	cases := []struct {
		name, url, refusal string
	}{
		{"superuser", pgtest.SuperuserURL(t, db), "is a superuser"},
		{"owner", ownerURL, "owns the tables"},
		{"app", appURL, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, allow := range []bool{false, true} {
				cfg := Config{DatabaseURL: c.url, AllowSuperuser: allow}
				d, err := OpenDatabase(ctx, cfg, log)
				if err != nil {
					t.Fatal(err)
				}
				err = d.CheckServingRole(ctx, cfg, log)
				d.Close()
				switch {
				case c.refusal == "" || allow:
					if err != nil {
						t.Errorf("allow=%v: %v", allow, err)
					}
				case err == nil || !strings.Contains(err.Error(), c.refusal) || !strings.Contains(err.Error(), "HEALTHREC_ALLOW_SUPERUSER=1"):
					t.Errorf("refusal: %v", err)
				}
			}
		})
	}
}
