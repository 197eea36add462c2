package staff

import (
	"bufio"
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/bcrypt"

	"healthrec/internal/apperr"
)

// The password policy (docs/access.md): at least MinPasswordLength
// characters, at most MaxPasswordBytes bytes (bcrypt reads no further), not a
// common password, and an estimated strength of at least MinPasswordScore.
const (
	MinPasswordLength = 10
	MaxPasswordBytes  = 72
	// MinPasswordScore is zxcvbn's 3, "safely unguessable": about 10^8
	// guesses or more, beyond an online attacker held back by the lockout
	// and costly for an offline one at bcrypt's cost.
	MinPasswordScore = 3
)

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = true
		}
	}
	return m
})

// CheckPasswordPolicy returns a field error on "password" when pw may not be
// set as a password. userInputs are words about the person (staff code,
// name, phone) that a guesser would try first.
func CheckPasswordPolicy(pw string, userInputs ...string) error {
	if reason := passwordProblem(pw, userInputs); reason != "" {
		return apperr.InvalidField("password", reason)
	}
	return nil
}

func passwordProblem(pw string, userInputs []string) string {
	switch {
	case !utf8.ValidString(pw):
		return "密码含有无效的字符编码"
	case strings.TrimFunc(pw, unicode.IsSpace) == "":
		return "密码不能为空或只含空白字符"
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return "密码至少 10 个字符"
	case len(pw) > MaxPasswordBytes:
		return "密码最多 72 字节（约 24 个汉字）"
	case commonPasswords()[strings.ToLower(strings.TrimSpace(pw))]:
		return "这是常见密码，容易被猜中，请换一个"
	}
	var inputs []string
	for _, in := range userInputs {
		if in = strings.TrimSpace(in); in != "" {
			inputs = append(inputs, strings.ToLower(in))
		}
	}
	if zxcvbn.PasswordStrength(pw, inputs).Score < MinPasswordScore {
		return "密码太容易被猜中：请用更长的密码，避免工号、姓名、手机号、常见单词、连续或重复的字符"
	}
	return ""
}

// HashPassword hashes a password with bcrypt. It checks only what bcrypt
// needs: callers that take a password from a person check
// CheckPasswordPolicy first (internal/postgres does, for every password set
// through the API, healthrec passwd and the first admin account).
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", apperr.InvalidField("password", "密码不能为空")
	}
	if len(pw) > MaxPasswordBytes {
		return "", apperr.InvalidField("password", "密码最多 72 字节（约 24 个汉字）")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// compareHash is bcrypt's comparison; a test counts its calls.
var compareHash = bcrypt.CompareHashAndPassword

// dummyHash is a bcrypt hash at the default cost of a random password that
// was thrown away: an unknown or inactive staff code is compared against it,
// so that it costs the same work as a known one and the answer's timing does
// not tell which codes exist. A constant, so that no first unknown login pays
// for generating it; knowing it helps nobody, as an empty hash never matches.
var dummyHash = []byte("$2a$10$XZim.PdjCLW96g3d2bJ3ZuvmxTlXykyDXsV2eW4F2PhJv7s.mxvle")

// CheckPassword reports whether pw matches hash. An empty hash (no such
// account, or one without a password) never matches, after the same work.
func CheckPassword(hash, pw string) bool {
	if hash == "" {
		_ = compareHash(dummyHash, []byte(pw))
		return false
	}
	return compareHash([]byte(hash), []byte(pw)) == nil
}
