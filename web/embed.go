// Package web holds the browser UI's static assets and templates, embedded so
// that the one binary serves everything.
package web

import "embed"

// Static holds the files served under /static/.
//
//go:embed static
var Static embed.FS

// Fonts holds the CJK TrueType font used for every PDF.
//
//go:embed fonts/*.ttf
var Fonts embed.FS
