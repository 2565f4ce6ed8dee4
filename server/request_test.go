package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// jsonRequest builds a test request: body (if any) as JSON, Origin set on
// anything unsafe as a browser would (when origin is given), and a bearer
// token if there is one. Safe from any goroutine: it only returns errors.
func jsonRequest(method, url, origin, token string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if origin != "" && method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Origin", origin)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}
