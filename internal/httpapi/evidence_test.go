package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"
)

// upload posts one file as multipart field "file".
func upload(c *client, path, name string, content []byte) response {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	part, _ := w.CreateFormFile("file", name)
	_, _ = part.Write(content)
	_ = w.Close()
	return c.req("POST", path, b.String(), "Content-Type", w.FormDataContentType())
}

// TestItemEvidence: the subject of a decided case sees its items with due
// dates, closes theirs with a text and files (photos or PDF up to 10 MB,
// kept with a SHA-256 checksum), asks for a review within the period, and
// reads the 回头看 result.
func TestItemEvidence(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rev, doc, other := e.login(f.Reviewer), e.login(f.DoctorA), e.login(f.DoctorB)
	r := rev.req("POST", "/api/v1/cases", map[string]any{"source": "inspection", "subject_type": "staff", "subject_code": f.DoctorA, "facts": "抽查发现体检缺项"})
	if r.Status != 201 {
		t.Fatalf("case: %d %s", r.Status, r.Raw)
	}
	id := fmt.Sprint(r.Body["id"])
	for _, b := range []map[string]any{{"to": "investigating", "reason": "调查"},
		{"to": "determined", "reason": "查实", "responsibility": "direct", "severity": "light"},
		{"to": "determined", "reason": "申辩"},
		{"to": "decided", "reason": "决定", "outcome": "written_self_examination"}, {"to": "served", "reason": "送达"}} {
		rev.proc(id, b, 200)
	}
	it := rev.req("POST", "/api/v1/cases/"+id+"/items", map[string]any{"owner": f.DoctorA, "due_date": e.now.AddDate(0, 1, 0).Format("2006-01-02"), "description": "补齐体检"})
	if it.Status != 201 {
		t.Fatalf("item: %d %s", it.Status, it.Raw)
	}
	item := fmt.Sprint(it.Body["id"])
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

	if r := upload(other, "/api/v1/items/"+item+"/evidence", "x.png", png); r.Status != 403 {
		t.Fatalf("another doctor uploads: %d", r.Status)
	}
	for _, tt := range []struct {
		name    string
		content []byte
	}{{"note.txt", []byte("纯文本不算照片")}, {"big.pdf", append([]byte("%PDF-"), bytes.Repeat([]byte{'x'}, 10<<20)...)}, {"empty.png", nil}} {
		if r := upload(doc, "/api/v1/items/"+item+"/evidence", tt.name, tt.content); r.Status != 400 || r.errField() != "file" {
			t.Errorf("%s: %d %s", tt.name, r.Status, r.Raw)
		}
	}
	up := upload(doc, "/api/v1/items/"+item+"/evidence", "体检表.png", png)
	sum := sha256.Sum256(png)
	if up.Status != 201 || up.Body["sha256"] != hex.EncodeToString(sum[:]) || up.Body["content_type"] != "image/png" || up.Body["name"] != "体检表.png" {
		t.Fatalf("upload: %d %s", up.Status, up.Raw)
	}
	if r := upload(doc, "/api/v1/items/"+item+"/evidence", "scan.pdf", pdf); r.Status != 201 {
		t.Fatalf("pdf: %d %s", r.Status, r.Raw)
	}
	loc := up.Header.Get("Location")
	for _, c := range []*client{doc, rev, e.login(f.Bureau)} {
		got := c.req("GET", loc, nil)
		if got.Status != 200 || !bytes.Equal(got.Raw, png) || got.Header.Get("X-Content-SHA256") != hex.EncodeToString(sum[:]) {
			t.Fatalf("download: %d %q", got.Status, got.Header)
		}
	}
	if r := other.req("GET", loc, nil); r.Status != 403 {
		t.Fatalf("another doctor downloads: %d", r.Status)
	}
	if r := doc.req("GET", strings.Replace(loc, "/evidence/", "/evidence/9", 1), nil); r.Status != 404 {
		t.Fatalf("unknown file: %d", r.Status)
	}
	if r := doc.req("POST", "/api/v1/items/"+item+"/close", map[string]any{"evidence": "已补齐 30 份体检，见附件"}); r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Raw)
	}
	if r := upload(doc, "/api/v1/items/"+item+"/evidence", "late.png", png); r.Status != 409 {
		t.Fatalf("upload after closing: %d", r.Status)
	}
	rev.req("POST", "/api/v1/items/"+item+"/verify", map[string]any{"accepted": true, "note": "抽查合格"})
	list := doc.req("GET", "/api/v1/cases/"+id+"/items", nil)
	items, _ := list.Body["items"].([]any)
	if list.Status != 200 || len(items) != 1 {
		t.Fatalf("items: %d %s", list.Status, list.Raw)
	}
	got := items[0].(map[string]any)
	if files, _ := got["files"].([]any); len(files) != 2 || got["state"] != "verified" || got["verify_note"] != "抽查合格" || got["due_date"] == nil {
		t.Fatalf("the subject's item: %v", got)
	}
	if r := doc.req("POST", "/api/v1/cases/"+id+"/transitions", map[string]any{"to": "appealed", "reason": "已整改，请求复核"}); r.Status != 200 || r.Body["state"] != "appealed" {
		t.Fatalf("appeal within the period: %d %s", r.Status, r.Raw)
	}
}
