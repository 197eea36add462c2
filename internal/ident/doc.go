// Package ident holds the value types for the identifiers a resident health
// record carries: administrative region codes (GB/T 2260, GB/T 10114), the
// 16-digit health-record number built on a village code, and the resident
// identity number (GB 11643).
//
// Everything here is pure: no database, no clock, no configuration. Checks
// that need outside knowledge — whether a village is registered, whether a
// birth date lies in the future — are left to callers, who get the parsed
// parts (RecordID.Village, IDNumber.BornAfter) to do them with.
//
// Every validation failure is an *Error that names the API field and gives a
// short Simplified-Chinese reason, and wraps one of the sentinel errors
// (ErrFormat, ErrDate, ErrCheckChar, ErrMismatch) so callers can branch with
// errors.Is and still show the user something readable.
package ident
