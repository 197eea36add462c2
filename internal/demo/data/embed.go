// Package data holds the small fixed inputs of the demo county generator:
// regions.csv, the real 2023 statistical division codes and names of one
// county (淳安县 330127, Zhejiang), ten of its townships and 100 of their
// villages; and names.txt, the surnames and given-name characters that seed
// the deterministic synthetic-name generator. See README.md for provenance.
package data

import "embed"

// FS holds regions.csv and names.txt.
//
//go:embed regions.csv names.txt
var FS embed.FS
