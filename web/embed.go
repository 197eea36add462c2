// Package web holds the browser UI's static assets and pages, and the font
// for PDFs, embedded so that the one binary serves everything.
package web

import "embed"

// Static holds the files served under /static/.
//
//go:embed static
var Static embed.FS

// Pages holds the app shells (desk, tablet, bureau) and the tablet's service
// worker, served at their own paths by internal/httpapi/pages.go.
//
//go:embed pages
var Pages embed.FS

// Fonts holds the CJK TrueType font used for every PDF.
//
//go:embed fonts/*.ttf
var Fonts embed.FS
