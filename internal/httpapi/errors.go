package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/apperr"
	"healthrec/internal/postgres"
)

var (
	errNotFoundRoute = apperr.NotFoundf("没有这个接口")
	errMethod        = &apperr.Error{Code: apperr.Invalid, Message: "不支持此请求方法"}
)

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
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
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
	return raw, nil
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
