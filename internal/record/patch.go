package record

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"

	"healthrec/internal/apperr"
)

// patchable names the basic-information fields PATCH may change. The record
// ID, village, filing facts and status have their own operations.
var patchable = map[string]func(r *Record) any{
	"name":               func(r *Record) any { return &r.Name },
	"sex":                func(r *Record) any { return &r.Sex },
	"birth_date":         func(r *Record) any { return &r.BirthDate },
	"id_number":          func(r *Record) any { return &r.IDNumber },
	"residence_type":     func(r *Record) any { return &r.ResidenceType },
	"ethnicity":          func(r *Record) any { return &r.Ethnicity },
	"phone":              func(r *Record) any { return &r.Phone },
	"contact_name":       func(r *Record) any { return &r.ContactName },
	"contact_phone":      func(r *Record) any { return &r.ContactPhone },
	"responsible_doctor": func(r *Record) any { return &r.ResponsibleDoctor },
	"details_unmapped":   func(r *Record) any { return &r.DetailsUnmapped },
}

// Each item of the personal basic information table is patchable on its
// own, so that its history shows before → after item by item.
func init() {
	for _, it := range basicItems {
		get := it.get
		patchable[it.Name] = func(r *Record) any { return get(&r.BasicInfo) }
	}
}

// ApplyPatch sets the fields named in patch on r. Unknown or read-only fields
// and values of the wrong type are field errors.
func ApplyPatch(r *Record, patch map[string]json.RawMessage) error {
	var fe apperr.FieldErrors
	keys := make([]string, 0, len(patch))
	for k := range patch {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		target, ok := patchable[k]
		if k == "details" {
			fe.Add(k, "details 已拆分为个人基本信息表的各项字段（blood_abo、education…），请按字段修改")
			continue
		}
		if !ok {
			fe.Add(k, "此字段不能修改")
			continue
		}
		v := patch[k]
		dst := target(r)
		if bytes.Equal(v, []byte("null")) {
			switch dst.(type) {
			case *string:
				v = []byte(`""`)
			case *Details:
				v = []byte(`{}`)
			default:
				// a list: null is "not recorded"; Unmarshal leaves the old
				// value on null, so clear it first
				reflectZero(dst)
				continue
			}
		}
		if k == "details_unmapped" {
			r.DetailsUnmapped = Details{} // replaced whole, not merged
		}
		if _, isText := dst.(*string); !isText {
			reflectZero(dst) // a list is replaced whole, not appended to
		}
		if err := json.Unmarshal(v, dst); err != nil {
			fe.Add(k, "类型不正确")
		}
	}
	return fe.Err()
}

// reflectZero sets what p points to to its zero value.
func reflectZero(p any) {
	v := reflect.ValueOf(p).Elem()
	v.Set(reflect.Zero(v.Type()))
}

// Change is one field's value before and after an edit.
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// Diff lists the patchable fields that differ between a and b.
func Diff(a, b *Record) map[string]Change {
	out := map[string]Change{}
	for k, get := range patchable {
		x, _ := json.Marshal(get(a))
		y, _ := json.Marshal(get(b))
		if !bytes.Equal(x, y) {
			var bv, av any
			_ = json.Unmarshal(x, &bv)
			_ = json.Unmarshal(y, &av)
			out[k] = Change{Before: bv, After: av}
		}
	}
	return out
}
