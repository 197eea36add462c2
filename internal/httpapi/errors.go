package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
)

var errNotFoundRoute = apperr.NotFoundf("没有这个接口")

// methodNotAllowed answers a known path called with another method: 405 in
// the API's error shape (apperr has no code for it: it is about the route,
// never about the input).
func methodNotAllowed(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: map[string]any{
		"code": "method_not_allowed", "message": "此接口不支持 " + c.Request.Method + " 方法，可用：" + c.Writer.Header().Get("Allow")}})
}

// noStore keeps API answers, which carry personal data, out of browser and
// proxy caches.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// statusOf is the one map from error codes to HTTP statuses.
func statusOf(code apperr.Code) int {
	switch code {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error map[string]any `json:"error"`
}

// writeErrors writes the last error a handler reported. Only internal errors
// are logged with their detail; clients get a generic message for them.
func (s *Server) writeErrors(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	err := postgres.Translate(c.Errors.Last().Err)
	e, ok := apperr.As(err)
	if !ok {
		s.log.Error("internal error", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		e = &apperr.Error{Code: apperr.Internal, Message: "服务器内部错误"}
	}
	if e.Cause != nil {
		// What the database said stays here: the client has the reason.
		s.log.Info("request refused", "method", c.Request.Method, "path", c.Request.URL.Path, "code", e.Code, "cause", e.Cause)
	}
	if e.Code == apperr.Unavailable {
		c.Header("Retry-After", "5")
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	if len(e.Fields) > 0 {
		body["fields"] = e.Fields
	}
	for k, v := range e.Extra {
		body[k] = v
	}
	c.AbortWithStatusJSON(statusOf(e.Code), errorBody{Error: body})
}

func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", r)
			if !c.Writer.Written() {
				c.AbortWithStatusJSON(http.StatusInternalServerError, errorBody{Error: map[string]any{"code": apperr.Internal, "message": "服务器内部错误"}})
			}
		}
	}()
	c.Next()
}

// maxBody bounds JSON request bodies.
const maxBody = 1 << 20

// decode reads a JSON object into the struct pointed to by v. Each member is
// decoded on its own, so that every bad value (a date included) is reported
// with its field name, and unknown members are field errors too.
func decode(c *gin.Context, v any) error {
	raw, err := decodeObject(c)
	if err != nil {
		return err
	}
	return decodeInto(raw, v)
}

func decodeObject(c *gin.Context) (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		return nil, jsonError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "请求体只能包含一个 JSON 对象"}
	}
	if raw == nil {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "请求体应为 JSON 对象"}
	}
	// encoding/json turns invalid UTF-8 and lone surrogates into U+FFFD
	// without a word: refuse them instead, naming the member, so that
	// nothing is stored other than what was sent.
	var fe apperr.FieldErrors
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if reason := textProblem(raw[k]); reason != "" {
			fe.Add(k, reason)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if !utf8.Valid(body) { // then it is in a member's name
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "请求体含有无效的 UTF-8 字节"}
	}
	return raw, nil
}

// textProblem returns why a JSON value's text may not be stored, or "": its
// bytes must be UTF-8, its \u escapes whole characters, and none of them NUL
// (PostgreSQL's text cannot hold it).
func textProblem(raw []byte) string {
	if !utf8.Valid(raw) {
		return "含有无效的 UTF-8 字节"
	}
	// raw is valid JSON, so a backslash is always inside a string.
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1:])
		i += 4
		switch {
		case r == 0:
			return "含有不允许的空字符（\\u0000）"
		case utf16.IsSurrogate(r) && r < 0xdc00: // high: a low one must follow
			if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if lo := hex4(raw[i+3:]); lo >= 0xdc00 && lo <= 0xdfff {
					i += 6
					continue
				}
			}
			return "含有无效的 Unicode 转义（不成对的代理项）"
		case utf16.IsSurrogate(r):
			return "含有无效的 Unicode 转义（不成对的代理项）"
		}
	}
	return ""
}

// hex4 reads the four hex digits of a \u escape (valid JSON has them).
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}

func decodeInto(raw map[string]json.RawMessage, v any) error {
	fields := jsonFields(reflect.ValueOf(v).Elem())
	var fe apperr.FieldErrors
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := fields[k]
		if !ok {
			fe.Add(k, "未知字段")
			continue
		}
		if err := json.Unmarshal(raw[k], f.Addr().Interface()); err != nil {
			fe.Add(k, valueReason(err))
		}
	}
	return fe.Err()
}

// jsonFields maps JSON member names to the settable fields of struct value sv.
func jsonFields(sv reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	st := sv.Type()
	for i := 0; i < st.NumField(); i++ {
		sf := st.Field(i)
		if !sf.IsExported() {
			continue
		}
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(sv.Field(i)) {
				out[k] = v
			}
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[name] = sv.Field(i)
	}
	return out
}

func valueReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "类型应为 " + typeName(te.Type)
	}
	return err.Error()
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "字符串"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "整数"
	case reflect.Float64, reflect.Float32:
		return "数字"
	case reflect.Bool:
		return "true/false"
	case reflect.Slice:
		return "数组"
	case reflect.Map, reflect.Struct:
		return "对象"
	}
	return t.String()
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var mbe *http.MaxBytesError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return &apperr.Error{Code: apperr.Invalid, Message: "请求体为空，应为 JSON 对象"}
	case errors.As(err, &se):
		return &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("JSON 格式错误（第 %d 字节）", se.Offset)}
	case errors.As(err, &mbe):
		return &apperr.Error{Code: apperr.Invalid, Message: "请求体过大"}
	case errors.As(err, &te):
		return &apperr.Error{Code: apperr.Invalid, Message: "请求体应为 JSON 对象"}
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "请求内容有误: " + err.Error()}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func pageAll(n int) postgres.Page { return postgres.Page{Page: 1, PerPage: max(n, 1)} }
