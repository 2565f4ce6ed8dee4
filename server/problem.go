package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"sayso/consent"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the input that was wrong, when one was.
	Field string `json:"field,omitempty"`
}

const problemBase = "urn:sayso:problem:"

// statusTable is the one place domain errors become HTTP statuses.
var statusTable = []struct {
	err    error
	status int
	slug   string
	title  string
}{
	{consent.ErrInvalid, http.StatusBadRequest, "invalid", "The request is not valid"},
	{consent.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{consent.ErrForbidden, http.StatusForbidden, "forbidden", "Not allowed"},
	{consent.ErrConflict, http.StatusConflict, "conflict", "Conflict"},
	{consent.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "Sayso cannot do this right now"},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "unavailable", "Sayso cannot do this right now"},
}

// problemFor turns any error into a problem; unknown errors are 500s that
// say nothing about their cause.
func problemFor(err error) Problem {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return httpProblem(he.Code, "")
	}
	for _, row := range statusTable {
		if errors.Is(err, row.err) {
			p := Problem{Type: problemBase + row.slug, Title: row.title, Status: row.status}
			var inv *consent.InvalidError
			if errors.As(err, &inv) {
				p.Field, p.Detail = inv.Field, inv.Reason
			}
			return p
		}
	}
	return httpProblem(http.StatusInternalServerError, "")
}

// httpProblem is a problem for a plain HTTP status.
func httpProblem(status int, detail string) Problem {
	slug := strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "-")
	return Problem{Type: problemBase + slug, Title: http.StatusText(status), Status: status, Detail: detail}
}

// writeProblem sends p as application/problem+json.
func writeProblem(c echo.Context, p Problem) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	return jsonEncode(c.Response(), p)
}
