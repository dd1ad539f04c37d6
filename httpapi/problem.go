package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/licensing-go/licensing"
)

// CodeUnauthenticated is the code of a request that Config.Authenticate
// refused. The other codes are the ledger's (licensing.ErrorCode).
const CodeUnauthenticated = "unauthenticated"

// Problem is an RFC 9457 problem details object, the body of every error
// response, extended with the ledger's stable code and detail.
type Problem struct {
	// Title is the HTTP status text.
	Title string `json:"title" doc:"The HTTP status text."`
	// Status is the HTTP status code.
	Status int `json:"status" doc:"The HTTP status code."`
	// Detail is a human-readable sentence about this occurrence.
	Detail string `json:"detail" doc:"A human-readable sentence about this occurrence."`
	// Code is the stable code: one of the ledger's (licensing.ErrorCode)
	// or "unauthenticated".
	Code string `json:"code" enum:"not_found,invalid_argument,permission_denied,insufficient_licences,not_eligible,wrong_order_state,already_licensed,idempotency_key_reused,conflict,internal,unauthenticated" doc:"The stable code a frontend maps to its own message."`
	// Field names the argument at fault for invalid_argument (a body field,
	// a parameter, or "body"), or what was not found for not_found.
	Field string `json:"field,omitempty" doc:"The argument at fault, or what was not found."`
	// Needed and Free are the seats asked for and the seats there were,
	// for insufficient_licences.
	Needed int `json:"needed,omitempty" doc:"Seats asked for (insufficient_licences)."`
	Free   int `json:"free,omitempty" doc:"Seats there were (insufficient_licences)."`
	// Errors lists each schema violation of a request the API refused
	// before it reached the ledger.
	Errors []ProblemError `json:"errors,omitempty" doc:"Each schema violation, for a request refused before it reached the ledger."`
}

// ProblemError is one schema violation of a request.
type ProblemError struct {
	// Location is where: "body.learners[0]", "query.limit", "path.company".
	Location string `json:"location,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// Error implements error.
func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter: problems are
// application/problem+json.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// statuses maps the ledger's codes to HTTP statuses.
var statuses = map[string]int{
	licensing.CodeNotFound:          http.StatusNotFound,
	licensing.CodeInvalid:           http.StatusUnprocessableEntity,
	licensing.CodeForbidden:         http.StatusForbidden,
	licensing.CodeInsufficient:      http.StatusConflict,
	licensing.CodeNotEligible:       http.StatusConflict,
	licensing.CodeOrderState:        http.StatusConflict,
	licensing.CodeAlreadyLicensed:   http.StatusConflict,
	licensing.CodeIdempotencyReused: http.StatusUnprocessableEntity,
	licensing.CodeConflict:          http.StatusConflict,
}

// problem turns an error of the ledger into a Problem. An error that is not
// the ledger's typed error is internal: it is logged, not shown.
func (a *API) problem(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	code := licensing.ErrorCode(err)
	status, ok := statuses[code]
	var le *licensing.Error
	if !ok || !errors.As(err, &le) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// The client went away or the host's deadline passed: nothing
			// of the ledger's failed.
			return &Problem{Status: http.StatusServiceUnavailable, Title: http.StatusText(http.StatusServiceUnavailable),
				Code: licensing.CodeInternal, Detail: "the request was cancelled"}
		}
		if a.cfg.Logger != nil {
			a.cfg.Logger.LogAttrs(ctx, slog.LevelError, "httpapi: internal error", slog.Any("err", err))
		}
		return &Problem{Status: http.StatusInternalServerError, Title: http.StatusText(http.StatusInternalServerError),
			Code: licensing.CodeInternal, Detail: "internal error"}
	}
	return &Problem{
		Status: status, Title: http.StatusText(status), Code: code,
		Detail: le.Message, Field: le.Field, Needed: le.Needed, Free: le.Free,
	}
}

// problemTransformer turns the errors huma writes itself (a body that is
// not JSON, over the limit, of the wrong type, or against the schema) into
// Problems, so every error of the API has one shape.
func problemTransformer(_ huma.Context, _ string, v any) (any, error) {
	em, ok := v.(*huma.ErrorModel)
	if !ok {
		if p, ok := v.(*Problem); ok && p.Title == "" {
			p.Title = http.StatusText(p.Status)
		}
		return v, nil
	}
	return fromErrorModel(em), nil
}

func fromErrorModel(em *huma.ErrorModel) *Problem {
	p := &Problem{Status: em.Status, Title: http.StatusText(em.Status), Detail: em.Detail}
	switch {
	case em.Status == http.StatusUnauthorized:
		p.Code = CodeUnauthenticated
	case em.Status == http.StatusNotFound:
		p.Code = licensing.CodeNotFound
	case em.Status >= 500:
		p.Code, p.Detail = licensing.CodeInternal, "internal error"
		return p
	default:
		p.Code = licensing.CodeInvalid
	}
	for _, d := range em.Errors {
		p.Errors = append(p.Errors, ProblemError{Location: d.Location, Message: d.Message})
	}
	switch {
	case len(em.Errors) > 0:
		p.Field = fieldOf(em.Errors[0].Location)
		if name, ok := requiredProperty(em.Errors[0].Message); ok {
			p.Field = name
		}
		if p.Detail == "validation failed" {
			p.Detail = em.Errors[0].Message
			if p.Field != "" {
				p.Detail = p.Field + ": " + p.Detail
			}
		}
	case em.Status == http.StatusBadRequest, em.Status == http.StatusRequestEntityTooLarge,
		em.Status == http.StatusUnsupportedMediaType:
		p.Field = "body"
	}
	return p
}

// fieldOf turns a huma location ("body.learners[0]", "query.limit",
// "path.company", "body") into the field a Problem names.
func fieldOf(loc string) string {
	for _, pre := range []string{"body.", "query.", "path.", "header."} {
		if rest, ok := strings.CutPrefix(loc, pre); ok {
			loc = rest
			break
		}
	}
	if i := strings.IndexAny(loc, ".["); i >= 0 {
		loc = loc[:i]
	}
	return loc
}

// requiredProperty reads the name out of huma's message for a missing
// property, which it locates at the enclosing object.
func requiredProperty(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "expected required property ")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, " ")
	return name, ok
}

// writeProblem writes p where huma does not: for a route the API does not
// have, a request the host did not authenticate, a cross-origin write.
func writeProblem(w http.ResponseWriter, p *Problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}
