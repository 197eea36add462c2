package access

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// patterns holds the compiled form of each policy pattern. The policy is a
// fixed file, so the map stays as small as the policy. Compiling at every
// evaluation, as casbin's keyMatch2 and regexMatch do, was a fifth of the
// CPU time of a record page.
type patterns struct{ m sync.Map }

func (ps *patterns) compile(kind, pattern string, build func(string) string) (*regexp.Regexp, error) {
	key := kind + "\x00" + pattern
	if re, ok := ps.m.Load(key); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(build(pattern))
	if err != nil {
		return nil, fmt.Errorf("policy pattern %q: %w", pattern, err)
	}
	ps.m.Store(key, re)
	return re, nil
}

var pathParam = regexp.MustCompile(`:[^/]+`)

// pathRegexp is keyMatch2's reading of a policy object: ":name" is one path
// segment, a trailing "/*" anything below, the rest a regular expression
// (record sections use alternation, "record.(basic|card)"), anchored at both
// ends.
func pathRegexp(pattern string) string {
	p := strings.ReplaceAll(pattern, "/*", "/.*")
	p = pathParam.ReplaceAllString(p, "[^/]+")
	return "^" + p + "$"
}

// actionRegexp anchors a policy action, so that "read" never matches
// "unread" and "(GET|POST)" is exactly one of the two.
func actionRegexp(pattern string) string { return "^(?:" + pattern + ")$" }

// matchFunc returns a casbin function matching a request value (its first
// argument) against a policy pattern (its second).
func (ps *patterns) matchFunc(kind string, build func(string) string) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		if len(args) != 2 {
			return false, fmt.Errorf("%s: want 2 arguments", kind)
		}
		value, _ := args[0].(string)
		pattern, _ := args[1].(string)
		re, err := ps.compile(kind, pattern, build)
		if err != nil {
			return false, err
		}
		return re.MatchString(value), nil
	}
}
