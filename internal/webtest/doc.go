// Package webtest drives the web UI (desk, tablet, bureau) in a real headless
// Chromium against the real handler and a real PostgreSQL. A journey that
// cannot run (Chromium missing and not installable) fails; it never skips.
package webtest
