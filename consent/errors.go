// Package consent is Sayso's domain: young people, the organisations and
// professionals around them, what is held about them and who may see it. It
// imports nothing of the project's infrastructure; stores, policy, keys and
// the web layer depend on it, never the other way round.
package consent

import (
	"context"
	"errors"
)

// Sentinel errors. Every Store and Service method documents which of these it
// returns; callers match them with errors.Is. The HTTP layer maps them to
// status codes in one table.
var (
	// ErrNotFound: the thing asked for does not exist (or the caller may not
	// learn that it exists).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique value is already taken, or a one-time value was
	// already used.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input breaks a rule; the wrapped message says which.
	ErrInvalid = errors.New("invalid input")
	// ErrForbidden: the caller is known but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: a dependency (store, log, keys) could not do its part in
	// time; nothing was changed or disclosed.
	ErrUnavailable = errors.New("unavailable")
	// ErrNewerSchema: the store was written by a newer Sayso.
	ErrNewerSchema = errors.New("store schema is newer than this program")
)

// InvalidError carries the field that broke a rule, for a clear answer.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Invalid returns an *InvalidError for field.
func Invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// ErrErased means the young person's key was deleted: what was sealed under
// it can never be read again.
var ErrErased = errors.New("erased")

// Sealer encrypts a young person's information under their own key, bound
// to the record it belongs to. Open returns ErrErased once the key is gone.
type Sealer interface {
	Seal(ctx context.Context, youngPersonID, record string, plain []byte) ([]byte, error)
	Open(ctx context.Context, youngPersonID, record string, sealed []byte) ([]byte, error)
}
