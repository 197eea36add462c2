package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"healthrec/internal/app"
	"healthrec/internal/postgres/pgtest"
	"healthrec/internal/staff"
)

// HEALTHREC_ADMIN_PASSWORD must pass the password policy, except for the
// demo county, whose accounts share a published password.
func TestAdminPasswordPolicy(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	db := pgtest.NewDB(t)
	err := app.EnsureAdmin(ctx, db, "demo1234", log)
	if err == nil || !strings.Contains(err.Error(), "HEALTHREC_ADMIN_PASSWORD") {
		t.Fatalf("a weak admin password outside the demo: %v", err)
	}
	if ok, _ := db.HasAdmin(ctx); ok {
		t.Fatal("the admin was created anyway")
	}
	if err := app.EnsureAdmin(ctx, db, "Admin-pass-2026!", log); err != nil {
		t.Fatal(err)
	}
	hash, _ := db.PasswordHash(ctx, "admin")
	if !staff.CheckPassword(hash, "Admin-pass-2026!") {
		t.Fatal("admin password not set")
	}

	demo := pgtest.NewDB(t)
	if err := app.EnsureDemoAdmin(ctx, demo, "demo1234", log); err != nil {
		t.Fatalf("the demo's admin: %v", err)
	}
	hash, _ = demo.PasswordHash(ctx, "admin")
	if !staff.CheckPassword(hash, "demo1234") {
		t.Fatal("demo admin password not set")
	}
}

// healthrec passwd goes through SetPassword, which applies the policy.
func TestSetPasswordPolicy(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	f := pgtest.NewFixture(t, db)
	for _, pw := range []string{"12345678", "password", "        "} {
		if err := db.SetPassword(ctx, f.DoctorA, pw); err == nil || !strings.Contains(err.Error(), "password") {
			t.Errorf("%q: %v", pw, err)
		}
	}
	if err := db.SetPassword(ctx, f.DoctorA, "Passwd-cli-2026"); err != nil {
		t.Fatal(err)
	}
}
