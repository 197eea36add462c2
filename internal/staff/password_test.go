package staff

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"healthrec/internal/apperr"
)

func TestPasswordPolicyRefuses(t *testing.T) {
	for _, pw := range []string{
		"12345678", "password", "        ", // the three
		"", "short-1", // too short
		"1234567890", "qwertyuiop", "aaaaaaaaaaaa", // walks and repeats, weak by the estimate
		"woaini1314520", "WoAiNi1314520", // in the embedded list though the estimate says 3
		strings.Repeat("长", 25), // 75 bytes: more than bcrypt reads
		"d011d011d011",          // the staff code repeated
		"secret\xffpassword-9",  // invalid UTF-8
	} {
		err := CheckPasswordPolicy(pw, "d011", "王医生")
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "password" {
			t.Errorf("%q: got %v, want a field error on password", pw, err)
			continue
		}
		if r := e.Fields[0].Reason; r == "" || !hasHan(r) {
			t.Errorf("%q: reason %q is not Chinese", pw, r)
		}
	}
}

func TestPasswordPolicyAccepts(t *testing.T) {
	for _, pw := range []string{"Initial-pass-1", "huanzhe-dangan-9", "correct horse battery", "健康档案-二〇二六-春"} {
		if err := CheckPasswordPolicy(pw, "d011", "王医生"); err != nil {
			t.Errorf("%q: %v", pw, err)
		}
	}
}

func TestCommonPasswordsEmbedded(t *testing.T) {
	if n := len(commonPasswords()); n < 100 {
		t.Fatalf("%d common passwords loaded", n)
	}
}

// An unknown code (empty hash) costs the same bcrypt comparison as a known
// one, against a hash of the default cost.
func TestCheckPasswordEqualWork(t *testing.T) {
	calls := 0
	orig := compareHash
	t.Cleanup(func() { compareHash = orig })
	compareHash = func(h, pw []byte) error { calls++; return orig(h, pw) }

	known, err := bcrypt.GenerateFromPassword([]byte("Initial-pass-1"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(string(known), "Initial-pass-1") || calls != 1 {
		t.Fatalf("known: calls %d", calls)
	}
	if CheckPassword("", "Initial-pass-1") || calls != 2 {
		t.Fatalf("unknown code: calls %d, want a comparison", calls)
	}
	if c, err := bcrypt.Cost(dummyHash); err != nil || c != bcrypt.DefaultCost {
		t.Fatalf("dummy hash cost %d, %v; want %d", c, err, bcrypt.DefaultCost)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
