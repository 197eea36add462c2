// Package pdftest reads back the PDFs the service prints, for tests.
package pdftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Text extracts a PDF's text with poppler's pdftotext. make test installs
// poppler-utils, so the skip only happens on a bare developer box.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not on PATH (install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// Compact is Text without any whitespace: pdftotext may drop or add spaces
// around CJK text.
func Compact(t testing.TB, pdf []byte) string {
	t.Helper()
	return strings.Join(strings.Fields(Text(t, pdf)), "")
}
