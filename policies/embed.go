// Package policies holds the casbin model and default policy, embedded.
package policies

import _ "embed"

// Model is the casbin model: role-based access with domains.
//
//go:embed model.conf
var Model string

// Policy is the default policy, one rule per line.
//
//go:embed policy.csv
var Policy string
