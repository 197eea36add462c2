// Package sqlfiles holds the database migrations, embedded in the binary.
// Import it as sqlfiles so it does not clash with database/sql.
package sqlfiles

import "embed"

// Migrations holds the forward-only goose migrations in migrations/.
//
//go:embed migrations/*.sql
var Migrations embed.FS
