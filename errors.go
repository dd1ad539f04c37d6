package licensing

import (
	"errors"
	"fmt"
)

// The sentinel errors of the ledger. Every error a command returns matches
// exactly one of them with errors.Is; an *Error carries the detail and a
// stable Code.
var (
	// ErrNotFound: the object does not exist, or it lies outside the actor's
	// tenancy. The two cases are indistinguishable on purpose.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: an argument is malformed; Error.Field names it.
	ErrInvalid = errors.New("invalid argument")
	// ErrForbidden: the actor may see the object but not do this to it, for
	// example a company manager assigning its own company's order.
	ErrForbidden = errors.New("permission denied")
	// ErrInsufficient: not enough free seats; Error.Needed and Error.Free say
	// how many.
	ErrInsufficient = errors.New("insufficient licences")
	// ErrNotEligible: the licence may not be reallocated or released because
	// its learner is still in the company and has logged in.
	ErrNotEligible = errors.New("not eligible for reallocation")
	// ErrOrderState: the order is not in a state that allows the command.
	ErrOrderState = errors.New("wrong order state")
	// ErrAlreadyLicensed: the learner already holds a live licence of the tier.
	ErrAlreadyLicensed = errors.New("already licensed")
	// ErrIdempotencyReused: an idempotency key was reused with other arguments.
	ErrIdempotencyReused = errors.New("idempotency key reused")
	// ErrConflict: the object already exists, or a concurrent change won.
	ErrConflict = errors.New("conflict")
)

// Stable codes, one per sentinel, for frontends to show or map.
const (
	CodeNotFound          = "not_found"
	CodeInvalid           = "invalid_argument"
	CodeForbidden         = "permission_denied"
	CodeInsufficient      = "insufficient_licences"
	CodeNotEligible       = "not_eligible"
	CodeOrderState        = "wrong_order_state"
	CodeAlreadyLicensed   = "already_licensed"
	CodeIdempotencyReused = "idempotency_key_reused"
	CodeConflict          = "conflict"
	CodeInternal          = "internal"
)

var codes = map[error]string{
	ErrNotFound:          CodeNotFound,
	ErrInvalid:           CodeInvalid,
	ErrForbidden:         CodeForbidden,
	ErrInsufficient:      CodeInsufficient,
	ErrNotEligible:       CodeNotEligible,
	ErrOrderState:        CodeOrderState,
	ErrAlreadyLicensed:   CodeAlreadyLicensed,
	ErrIdempotencyReused: CodeIdempotencyReused,
	ErrConflict:          CodeConflict,
}

// Error is the typed error of the ledger. It wraps one sentinel (Kind), so
// errors.Is(err, ErrInsufficient) holds, and adds the detail.
type Error struct {
	// Kind is the sentinel this error is an instance of.
	Kind error `json:"-"`
	// Field names the offending argument, for ErrInvalid (and for ErrNotFound,
	// what was not found: "company", "order", "learner", ...).
	Field string `json:"field,omitempty"`
	// Needed and Free are the seats asked for and the seats there were, for
	// ErrInsufficient.
	Needed int `json:"needed,omitempty"`
	Free   int `json:"free,omitempty"`
	// Message is a human-readable sentence.
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string {
	var s string
	if e.Kind != nil {
		s = e.Kind.Error()
	}
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// Code returns the stable code of the sentinel, such as "insufficient_licences".
func (e *Error) Code() string { return ErrorCode(e.Kind) }

// ErrorCode returns the stable code of err: the code of the sentinel it
// matches, "internal" for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	for s, c := range codes {
		if errors.Is(err, s) {
			return c
		}
	}
	return CodeInternal
}

func invalid(field, format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(what, id string) error {
	return &Error{Kind: ErrNotFound, Field: what, Message: fmt.Sprintf("no %s %q", what, id)}
}

func forbidden(format string, args ...any) error {
	return &Error{Kind: ErrForbidden, Message: fmt.Sprintf(format, args...)}
}

func orderState(format string, args ...any) error {
	return &Error{Kind: ErrOrderState, Field: "order", Message: fmt.Sprintf(format, args...)}
}

func conflict(field, format string, args ...any) error {
	return &Error{Kind: ErrConflict, Field: field, Message: fmt.Sprintf(format, args...)}
}
