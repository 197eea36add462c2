// Package apperr is the service's one error type. Every layer returns these (or
// wraps them); the HTTP layer maps Code to a status in one place, and only
// internal errors are logged.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error for clients. The values are part of the API contract.
type Code string

// Error codes, as they appear in API error bodies.
const (
	Invalid      Code = "invalid"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Unavailable  Code = "unavailable"
	Internal     Code = "internal"
)

// FieldError names one bad input field and why it is bad.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is an application error with a client-facing message.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Extra carries contract fields beside the message, such as
	// existing_record_id for a duplicate identity number or state for an
	// illegal transition.
	Extra map[string]any
	// Cause is the error this one stands for, kept for the server log
	// and never shown to the client.
	Cause error
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s %v", e.Code, e.Message, e.Fields)
}

// Errorf returns an error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf is shorthand for Errorf(NotFound, …).
func NotFoundf(format string, args ...any) *Error { return Errorf(NotFound, format, args...) }

// Conflictf is shorthand for Errorf(Conflict, …).
func Conflictf(format string, args ...any) *Error { return Errorf(Conflict, format, args...) }

// Forbiddenf is shorthand for Errorf(Forbidden, …).
func Forbiddenf(format string, args ...any) *Error { return Errorf(Forbidden, format, args...) }

// With returns a copy of e carrying an extra contract field.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extra = make(map[string]any, len(e.Extra)+1)
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[key] = value
	return &c
}

// FieldErrors collects field errors during validation.
type FieldErrors []FieldError

// Add records that field is bad for reason.
func (fe *FieldErrors) Add(field, reason string) {
	*fe = append(*fe, FieldError{Field: field, Reason: reason})
}

// Err returns an Invalid error listing the fields, or nil when there are none.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "输入有误，请检查标出的字段", Fields: fe}
}

// InvalidField returns an Invalid error for one field.
func InvalidField(field, reason string) *Error {
	return &Error{Code: Invalid, Message: "输入有误，请检查标出的字段", Fields: []FieldError{{field, reason}}}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
