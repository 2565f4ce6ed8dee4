// Package apitest checks, in tests, that every JSON answer Sayso gives keeps
// the contract in openapi.yaml.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"sayso"
)

var (
	once      sync.Once
	theRouter routers.Router
	loadErr   error
)

// Router returns the router over openapi.yaml, loading and validating the
// document once per test binary.
func Router(t testing.TB) routers.Router {
	t.Helper()
	once.Do(func() {
		// Exports are streamed text; their schema is a string.
		openapi3filter.RegisterBodyDecoder("application/jsonl", openapi3filter.PlainBodyDecoder)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(sayso.OpenAPI)
		if err != nil {
			loadErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			loadErr = fmt.Errorf("openapi.yaml is not valid: %w", err)
			return
		}
		theRouter, loadErr = legacy.NewRouter(doc)
	})
	if loadErr != nil {
		t.Fatalf("openapi.yaml: %v", loadErr)
	}
	return theRouter
}

// inContract reports whether a path is one the contract must describe.
func inContract(path string) bool {
	return strings.HasPrefix(path, "/v1/") || path == "/healthz" || path == "/readyz" || strings.HasPrefix(path, "/.well-known/")
}

// Transport wraps base so that every response to a contract path is checked
// against openapi.yaml; a mismatch, or a contract path the document does not
// describe, fails the test.
type Transport struct {
	T    testing.TB
	Base http.RoundTripper
}

func (tr *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := tr.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil || !inContract(req.URL.Path) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := Check(tr.T, req, resp.StatusCode, resp.Header, body); err != nil {
		tr.T.Errorf("%s %s: response breaks openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// Check validates one response against the contract.
func Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) error {
	r := Router(t)
	// The legacy router matches on the server URL; compare paths only.
	probe := req.Clone(context.Background())
	probe.URL.Scheme, probe.URL.Host, probe.Host = "", "", ""
	route, params, err := r.FindRoute(probe)
	if err != nil {
		return fmt.Errorf("no route in openapi.yaml for %s %s: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: probe, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// Client returns an http.Client whose answers are checked against the
// contract. jar may be nil.
func Client(t testing.TB, jar http.CookieJar) *http.Client {
	return &http.Client{Transport: &Transport{T: t}, Jar: jar}
}
