package httpapi

import (
	"encoding/json"
	"errors"
	"testing"

	"healthrec/internal/apperr"
	"healthrec/internal/record"
)

// FuzzDecodeRecord feeds arbitrary JSON to the request decoder used by every
// handler: it never panics, and it either fills the struct or returns an
// Invalid error that names fields (or says what is wrong with the body).
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{
		`{"village_code":"330127100101","name":"王芳","sex":"F","birth_date":"1955-03-08"}`,
		`{"birth_date":"2023-02-29"}`, `{"name":5}`, `{"nmae":"x"}`, `{"details":{"a":[1,{"b":null}]}}`,
		`[]`, `null`, `{`, `{"birth_date":null,"sex":""}`, `{"version":1e400}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var raw map[string]json.RawMessage
		if json.Unmarshal([]byte(body), &raw) != nil || raw == nil {
			return
		}
		var r record.Record
		err := decodeInto(raw, &r)
		if err == nil {
			return
		}
		var e *apperr.Error
		if !errors.As(err, &e) || e.Code != apperr.Invalid || len(e.Fields) == 0 {
			t.Fatalf("decodeInto(%q) = %v, want an Invalid error with fields", body, err)
		}
		for _, fe := range e.Fields {
			if _, ok := raw[fe.Field]; !ok {
				t.Fatalf("field error names %q, which is not in the body %q", fe.Field, body)
			}
		}
	})
}
