package server_test

import (
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sayso/demo"
	"sayso/internal/testenv"
	"sayso/internal/wire"
	"sayso/server"
)

// fillPath turns a route pattern into a concrete path.
func fillPath(p string) string {
	r := strings.NewReplacer(":ypId", "amara", ":grantId", "g-x", ":requestId", "q-x", ":category", "address",
		":professionalId", "sam", ":orgId", "riverside-council", ":index", "0", ":logIndex", "0", "*", "sayso.css")
	return r.Replace(p)
}

func TestHeaders_EveryRoute(t *testing.T) {
	env := testenv.New(t)
	amara := env.SignIn(t, "amara")
	for _, rt := range env.App.Server.Routes() {
		if strings.HasPrefix(rt.Path, "/dev-idp") || rt.Method == "echo_route_not_found" {
			continue
		}
		t.Run(rt.Method+"_"+rt.Path, func(t *testing.T) {
			req, _ := http.NewRequest(rt.Method, env.URL+fillPath(rt.Path), strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", env.URL)
			c := &http.Client{Jar: amara.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy = %q, want frame-ancestors 'none'", csp)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if got := h.Get("Referrer-Policy"); got == "" {
				t.Errorf("Referrer-Policy missing")
			}
			public := strings.HasPrefix(rt.Path, "/static/") || rt.Path == "/.well-known/jwks.json"
			if got := h.Get("Cache-Control"); !public && got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := h.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("Strict-Transport-Security = %q over plain http, want none", got)
			}
		})
	}
}

func TestHeaders_UnusedMethods405(t *testing.T) {
	env := testenv.New(t)
	amara := env.SignIn(t, "amara")
	byPath := map[string]map[string]bool{}
	for _, rt := range env.App.Server.Routes() {
		if strings.HasPrefix(rt.Path, "/dev-idp") || rt.Method == "echo_route_not_found" || strings.Contains(rt.Path, "*") {
			continue
		}
		if byPath[rt.Path] == nil {
			byPath[rt.Path] = map[string]bool{}
		}
		byPath[rt.Path][rt.Method] = true
	}
	for path, methods := range byPath {
		for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost} {
			if methods[m] {
				continue
			}
			req, _ := http.NewRequest(m, env.URL+fillPath(path), nil)
			req.Header.Set("Origin", env.URL)
			// A plain client: these methods are not in the contract at all.
			resp, err := (&http.Client{Jar: amara.Jar}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s = %d, want 405", m, path, resp.StatusCode)
			}
		}
	}
}

// TestHeaders_OverTLS checks what only applies over https: HSTS, and
// session cookies that are Secure with the __Host- prefix.
func TestHeaders_OverTLS(t *testing.T) {
	f := newFakeIssuer(t)
	ts := httptest.NewUnstartedServer(nil)
	base := "https://" + ts.Listener.Addr().String()
	app, err := wire.Build(t.Context(), testenv.Logger(t), wire.Options{DataDir: t.TempDir(), PublicURL: base, SessionIdle: time.Hour, SessionAbsolute: time.Hour,
		OIDC: server.OIDCConfig{Issuer: f.srv.URL, ClientID: f.clientID, ClientSecret: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(t.Context(), app.Store, time.Now()); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Server
	ts.StartTLS()
	defer func() { ts.Close(); app.Close() }()
	jar, _ := cookiejar.New(nil)
	var setCookies []*http.Cookie
	c := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			setCookies = append(setCookies, req.Response.Cookies()...)
			return nil
		}}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
		t.Errorf("Strict-Transport-Security over https = %q, want max-age", got)
	}
	names := map[string]bool{}
	for _, ck := range setCookies {
		if ck.MaxAge < 0 {
			continue // clearing
		}
		names[ck.Name] = true
		if !strings.HasPrefix(ck.Name, "__Host-") || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie over https = %+v, want __Host- prefix, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain", ck)
		}
	}
	if !names["__Host-sayso_login"] || !names["__Host-sayso_session"] {
		t.Errorf("cookies set over https = %v, want __Host-sayso_login and __Host-sayso_session", names)
	}
}
