package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"sayso/consent"
	"sayso/demo"
	"sayso/internal/apitest"
	"sayso/internal/testenv"
	"sayso/internal/wire"
	"sayso/server"
)

// fakeIssuer is an OpenID provider the test controls, so it can send back
// the bad answers a real provider (or an attacker in its place) might.
type fakeIssuer struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey // published in the JWKS
	rogue    *rsa.PrivateKey // not published
	clientID string

	mu          sync.Mutex
	claimIssuer string // issuer written in discovery; default: the real URL
	mode        string
	subject     string
	lastNonce   string
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	f := &fakeIssuer{clientID: "sayso-web", subject: "amara"}
	var err error
	if f.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if f.rogue, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		iss := f.claimIssuer
		f.mu.Unlock()
		if iss == "" {
			iss = f.srv.URL
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": f.srv.URL + "/authorize", "token_endpoint": f.srv.URL + "/token",
			"jwks_uri": f.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "good", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			http.Error(w, "PKCE S256 required", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.lastNonce = q.Get("nonce")
		f.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		bq := back.Query()
		bq.Set("code", "code-"+q.Get("state"))
		bq.Set("state", q.Get("state"))
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("code_verifier") == "" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": f.idToken(t)})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) set(mode string) {
	f.mu.Lock()
	f.mode = mode
	f.mu.Unlock()
}

func (f *fakeIssuer) idToken(t *testing.T) string {
	f.mu.Lock()
	mode, nonce, sub := f.mode, f.lastNonce, f.subject
	f.mu.Unlock()
	now := time.Now()
	claims := map[string]any{
		"iss": f.srv.URL, "sub": sub, "aud": f.clientID, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	key, kid := f.key, "good"
	switch mode {
	case "wrong-audience":
		claims["aud"] = "someone-else"
	case "unknown-key":
		key, kid = f.rogue, "good" // same kid, different key: the signature cannot check out
	case "expired":
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case "missing-nonce":
		delete(claims, "nonce")
	case "stranger":
		claims["sub"] = "stranger"
	case "replay":
		claims["nonce"] = "nonce-from-an-earlier-sign-in"
	case "azp-other-client":
		claims["aud"], claims["azp"] = []string{f.clientID, "other-client"}, "other-client"
	case "several-audiences-no-azp":
		claims["aud"] = []string{f.clientID, "other-client"}
	}
	sk := jose.SigningKey{Algorithm: jose.RS256, Key: key}
	if mode == "hs256" {
		// Signed with the public key's bytes as an HMAC secret: the classic
		// algorithm-confusion forgery.
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: f.key.PublicKey.N.Bytes()}
	}
	signer, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	if mode == "alg-none" {
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		body, _ := json.Marshal(claims)
		return header + "." + base64.RawURLEncoding.EncodeToString(body) + "."
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// saysoWith starts Sayso signing in with the fake issuer.
func saysoWith(t *testing.T, f *fakeIssuer) (string, consent.Store) {
	ctx := context.Background()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := wire.Build(ctx, testenv.Logger(t), wire.Options{
		DataDir: t.TempDir(), PublicURL: base, SessionIdle: time.Hour, SessionAbsolute: 12 * time.Hour,
		OIDC: server.OIDCConfig{Issuer: f.srv.URL, ClientID: f.clientID, ClientSecret: "s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	if err := demo.Seed(ctx, app.Store, time.Now()); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Server
	ts.Start()
	t.Cleanup(ts.Close)
	return base, app.Store
}

func newJarClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return apitest.Client(t, jar)
}

// signedIn reports whether the client holds a working session.
func signedIn(t *testing.T, c *http.Client, base string) bool {
	status, _ := getMe(t, c, base)
	return status == http.StatusOK
}

func TestSignIn_Rejections(t *testing.T) {
	t.Run("GoodTokenSignsIn", func(t *testing.T) {
		f := newFakeIssuer(t)
		base, _ := saysoWith(t, f)
		c := newJarClient(t)
		resp, err := c.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !signedIn(t, c, base) {
			t.Fatalf("after a good sign-in GET /v1/me is not 200; the rejections below would prove nothing")
		}
	})

	tokenCases := []struct {
		mode       string
		wantStatus int
		wantText   string
	}{
		{"wrong-audience", http.StatusBadRequest, "Signing in didn"},
		{"unknown-key", http.StatusBadRequest, "Signing in didn"},
		{"expired", http.StatusBadRequest, "Signing in didn"},
		{"missing-nonce", http.StatusBadRequest, "Signing in didn"},
		{"replay", http.StatusBadRequest, "Signing in didn"},
		{"stranger", http.StatusForbidden, "We don"},
		{"alg-none", http.StatusBadRequest, "Signing in didn"},
		{"hs256", http.StatusBadRequest, "Signing in didn"},
		{"azp-other-client", http.StatusBadRequest, "Signing in didn"},
		{"several-audiences-no-azp", http.StatusBadRequest, "Signing in didn"},
	}
	for _, tt := range tokenCases {
		t.Run("Token/"+tt.mode, func(t *testing.T) {
			f := newFakeIssuer(t)
			f.set(tt.mode)
			base, _ := saysoWith(t, f)
			c := newJarClient(t)
			resp, err := c.Get(base + "/login")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantText) {
				t.Errorf("sign-in with %s token = %d %.80q, want %d containing %q", tt.mode, resp.StatusCode, body, tt.wantStatus, tt.wantText)
			}
			if signedIn(t, c, base) {
				t.Errorf("after a %s token the browser is signed in, want no session", tt.mode)
			}
		})
	}

	// Callbacks the browser did not start, or whose state was changed.
	stateCases := []struct {
		name  string
		query func(state string) string
	}{
		{"MissingState", func(string) string { return "code=abc" }},
		{"WrongState", func(string) string { return "code=abc&state=not-the-one" }},
	}
	for _, tt := range stateCases {
		t.Run("State/"+tt.name, func(t *testing.T) {
			f := newFakeIssuer(t)
			base, _ := saysoWith(t, f)
			c := newJarClient(t)
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := c.Get(base + "/login")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			resp, err = c.Get(base + "/auth/callback?" + tt.query(loc.Query().Get("state")))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("callback with %s = %d, want 400", tt.name, resp.StatusCode)
			}
			if signedIn(t, c, base) {
				t.Errorf("after %s the browser is signed in, want no session", tt.name)
			}
		})
	}

	t.Run("State/NoSignInInProgress", func(t *testing.T) {
		f := newFakeIssuer(t)
		base, _ := saysoWith(t, f)
		c := newJarClient(t)
		resp, err := c.Get(base + "/auth/callback?code=abc&state=xyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || signedIn(t, c, base) {
			t.Errorf("callback with no sign-in started = %d, signed in %v; want 400 and no session", resp.StatusCode, signedIn(t, c, base))
		}
	})

	t.Run("Nonce/ReplayedCallback", func(t *testing.T) {
		// An attacker captures the whole callback, login cookie included,
		// and sends it again after the genuine sign-in.
		f := newFakeIssuer(t)
		base, _ := saysoWith(t, f)
		u, _ := url.Parse(base)
		browser := newJarClient(t)
		browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := browser.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var loginCookie *http.Cookie
		for _, ck := range browser.Jar.Cookies(u) {
			if ck.Name == "sayso_login" {
				loginCookie = ck
			}
		}
		if loginCookie == nil {
			t.Fatal("GET /login set no sayso_login cookie")
		}
		resp, err = browser.Get(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		callback := resp.Header.Get("Location")
		for i := range 2 {
			c := newJarClient(t)
			c.Jar.SetCookies(u, []*http.Cookie{loginCookie})
			resp, err := c.Get(callback)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := i == 0 // the first use is the genuine one
			if got := signedIn(t, c, base); got != want {
				t.Errorf("callback use %d signed in = %v, want %v", i+1, got, want)
			}
		}
	})

	t.Run("Discovery/IssuerMismatch", func(t *testing.T) {
		f := newFakeIssuer(t)
		f.mu.Lock()
		f.claimIssuer = "https://impostor.example"
		f.mu.Unlock()
		base, _ := saysoWith(t, f)
		c := newJarClient(t)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "Signing in didn") {
			t.Errorf("GET /login with a mismatched discovery issuer = %d, want 502 with a clear page", resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("GET /login redirected to %q, want no redirect to a provider that is not the configured one", loc)
		}
		if signedIn(t, c, base) {
			t.Errorf("signed in after a mismatched discovery, want no session")
		}
	})
}
