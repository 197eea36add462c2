// Package webtest drives the web UI (desk, tablet, bureau) in a real headless
// Chromium against the real handler and a real PostgreSQL. Its tests skip
// only when Chromium is missing and cannot be installed.
package webtest
