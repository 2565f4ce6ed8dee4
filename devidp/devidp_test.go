package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	webClientID     = "sayso-web"
	webSecret       = "web-secret"
	machineClientID = "holder-system"
	machineSecret   = "holder-secret"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var testPeople = []Person{
	{Subject: "amara", Name: "Amara Okafor", Email: "amara@example.test"},
	{Subject: "bea", Name: "Bea Lindqvist", Email: "bea@example.test"},
}

// testClock is real time plus an offset the test can advance.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type testEnv struct {
	srv         *httptest.Server
	base        string
	issuer      string
	redirectURI string
	clock       *testClock
	p           *Provider
}

func testConfig(base string) Config {
	return Config{
		Dev:    true,
		Issuer: base + "/dev-idp",
		People: testPeople,
		Clients: []Client{
			{
				ID:                     webClientID,
				Secret:                 webSecret,
				RedirectURIs:           []string{base + "/callback"},
				PostLogoutRedirectURIs: []string{base + "/"},
			},
			{ID: machineClientID, Secret: machineSecret, ClientCredentials: true},
		},
		SigningKey: testKey(),
		CryptoKey:  [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32},
	}
}

// newEnv starts a server whose outer mux mounts the provider at /dev-idp/
// without stripping the prefix, as Sayso does.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	clock := &testClock{}
	cfg := testConfig(base)
	cfg.Now = clock.Now
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := New(logger, cfg)
	if err != nil {
		t.Fatalf("New() error = %v, want nil", err)
	}
	mux := http.NewServeMux()
	mux.Handle(p.PathPrefix()+"/", p.Handler())
	mux.HandleFunc("/callback", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "callback") })
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	if srv.URL != base {
		t.Fatalf("httptest server URL = %q, want %q", srv.URL, base)
	}
	return &testEnv{srv: srv, base: base, issuer: cfg.Issuer, redirectURI: base + "/callback", clock: clock, p: p}
}

// browser follows redirects but stops at the client's redirect URI.
func (e *testEnv) browser() *http.Client {
	return &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), e.redirectURI) {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

func (e *testEnv) oauth(t *testing.T) (*oauth2.Config, *gooidc.Provider) {
	t.Helper()
	prov, err := gooidc.NewProvider(t.Context(), e.issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%q) error = %v, want nil", e.issuer, err)
	}
	endpoint := prov.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	return &oauth2.Config{
		ClientID:     webClientID,
		ClientSecret: webSecret,
		Endpoint:     endpoint,
		RedirectURL:  e.redirectURI,
		Scopes:       []string{gooidc.ScopeOpenID, "profile", "email"},
	}, prov
}

func get(t *testing.T, c *http.Client, rawURL string) *http.Response {
	t.Helper()
	resp, err := c.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s error = %v, want nil", rawURL, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// redirectParams asserts resp redirects to the client's redirect URI and
// returns the query parameters.
func (e *testEnv) redirectParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.redirectURI+"?") {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("response = %d Location %q (body %q), want 302 to %s?…", resp.StatusCode, loc, body, e.redirectURI)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("url.Parse(%q) error = %v", loc, err)
	}
	return u.Query()
}

// codeFrom asserts that the redirect carries a code and the state.
func (e *testEnv) codeFrom(t *testing.T, resp *http.Response, state string) string {
	t.Helper()
	q := e.redirectParams(t, resp)
	if got := q.Get("state"); got != state {
		t.Errorf("redirect state = %q, want %q", got, state)
	}
	code := q.Get("code")
	if code == "" {
		t.Fatalf("redirect code = %q (error %q %q), want a code", code, q.Get("error"), q.Get("error_description"))
	}
	return code
}

func retrieveErrorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func TestNew(t *testing.T) {
	base := "http://127.0.0.1:8080"
	t.Run("RefusesWithoutDev", func(t *testing.T) {
		cfg := testConfig(base)
		cfg.Dev = false
		p, err := New(nil, cfg)
		if err == nil || !strings.Contains(err.Error(), "development mode") {
			t.Fatalf("New(Dev=false) = %v, %v, want nil and an error about development mode", p, err)
		}
	})
	t.Run("Accepts", func(t *testing.T) {
		p, err := New(nil, testConfig(base))
		if err != nil {
			t.Fatalf("New() error = %v, want nil", err)
		}
		if got := p.PathPrefix(); got != "/dev-idp" {
			t.Errorf("PathPrefix() = %q, want %q", got, "/dev-idp")
		}
	})
	t.Run("KeyIDStable", func(t *testing.T) {
		p1, err1 := New(nil, testConfig(base))
		p2, err2 := New(nil, testConfig(base))
		if err1 != nil || err2 != nil {
			t.Fatalf("New() errors = %v, %v, want nil", err1, err2)
		}
		if p1.storage.keyID == "" || p1.storage.keyID != p2.storage.keyID {
			t.Errorf("key ids = %q, %q, want equal and non-empty", p1.storage.keyID, p2.storage.keyID)
		}
	})
	bad := map[string]func(*Config){
		"NoSigningKey":         func(c *Config) { c.SigningKey = nil },
		"ZeroCryptoKey":        func(c *Config) { c.CryptoKey = [32]byte{} },
		"IssuerWithoutPath":    func(c *Config) { c.Issuer = base },
		"IssuerTrailingSlash":  func(c *Config) { c.Issuer = base + "/dev-idp/" },
		"IssuerOddPath":        func(c *Config) { c.Issuer = base + "/dev/{idp}" },
		"IssuerNotHTTP":        func(c *Config) { c.Issuer = "ftp://127.0.0.1/dev-idp" },
		"DuplicateSubject":     func(c *Config) { c.People = append(c.People, testPeople[0]) },
		"EmptySubject":         func(c *Config) { c.People = append(c.People, Person{Name: "Nobody"}) },
		"MachineWithoutSecret": func(c *Config) { c.Clients = append(c.Clients, Client{ID: "m2", ClientCredentials: true}) },
		"MachineWithRedirect":  func(c *Config) { c.Clients[1].RedirectURIs = []string{base + "/cb"} },
		"WebWithoutRedirect":   func(c *Config) { c.Clients = append(c.Clients, Client{ID: "w2", Secret: "s"}) },
		"RelativeRedirect":     func(c *Config) { c.Clients[0].RedirectURIs = []string{"/callback"} },
		"DuplicateClient":      func(c *Config) { c.Clients = append(c.Clients, c.Clients[1]) },
		"SmallSigningKey": func(c *Config) {
			k, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				t.Fatalf("rsa.GenerateKey(1024) error = %v", err)
			}
			c.SigningKey = k
		},
	}
	for name, mutate := range bad {
		t.Run("Refuses"+name, func(t *testing.T) {
			cfg := testConfig(base)
			mutate(&cfg)
			if p, err := New(nil, cfg); err == nil {
				t.Fatalf("New(%s) = %v, nil, want an error", name, p)
			}
		})
	}
}

func TestProvider_Discovery(t *testing.T) {
	e := newEnv(t)
	resp := get(t, http.DefaultClient, e.issuer+"/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET discovery status = %d, want 200", resp.StatusCode)
	}
	var doc struct {
		Issuer              string   `json:"issuer"`
		Authorization       string   `json:"authorization_endpoint"`
		Token               string   `json:"token_endpoint"`
		Userinfo            string   `json:"userinfo_endpoint"`
		EndSession          string   `json:"end_session_endpoint"`
		JWKS                string   `json:"jwks_uri"`
		CodeChallenge       []string `json:"code_challenge_methods_supported"`
		GrantTypes          []string `json:"grant_types_supported"`
		TokenAuthMethods    []string `json:"token_endpoint_auth_methods_supported"`
		IDTokenSigningAlgos []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("decoding discovery: %v", err)
	}
	if doc.Issuer != e.issuer {
		t.Errorf("discovery issuer = %q, want %q", doc.Issuer, e.issuer)
	}
	if !slices.Equal(doc.CodeChallenge, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %q, want [S256]", doc.CodeChallenge)
	}
	for name, pair := range map[string][2]string{
		"authorization_endpoint": {doc.Authorization, e.issuer + "/authorize"},
		"token_endpoint":         {doc.Token, e.issuer + "/oauth/token"},
		"userinfo_endpoint":      {doc.Userinfo, e.issuer + "/userinfo"},
		"end_session_endpoint":   {doc.EndSession, e.issuer + "/end_session"},
		"jwks_uri":               {doc.JWKS, e.issuer + "/keys"},
	} {
		if pair[0] != pair[1] {
			t.Errorf("discovery %s = %q, want %q", name, pair[0], pair[1])
		}
	}
	for _, want := range []string{"authorization_code", "client_credentials"} {
		if !slices.Contains(doc.GrantTypes, want) {
			t.Errorf("grant_types_supported = %q, want it to contain %q", doc.GrantTypes, want)
		}
	}
	for _, want := range []string{"client_secret_basic", "client_secret_post"} {
		if !slices.Contains(doc.TokenAuthMethods, want) {
			t.Errorf("token_endpoint_auth_methods_supported = %q, want it to contain %q", doc.TokenAuthMethods, want)
		}
	}
	if !slices.Equal(doc.IDTokenSigningAlgos, []string{"RS256"}) {
		t.Errorf("id_token_signing_alg_values_supported = %q, want [RS256]", doc.IDTokenSigningAlgos)
	}

	// The JWKS serves the key under its thumbprint key id.
	keys := get(t, http.DefaultClient, doc.JWKS)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(keys.Body).Decode(&set); err != nil {
		t.Fatalf("decoding JWKS: %v", err)
	}
	if len(set.Keys) != 1 || set.Keys[0].Kid != e.p.storage.keyID || set.Keys[0].Alg != "RS256" || set.Keys[0].Use != "sig" || set.Keys[0].D != "" {
		t.Errorf("JWKS keys = %+v, want one public RS256 sig key with kid %q", set.Keys, e.p.storage.keyID)
	}
}

func TestProvider_CodeFlow(t *testing.T) {
	t.Run("LoginHintSkipsPicker", func(t *testing.T) {
		e := newEnv(t)
		cfg, prov := e.oauth(t)
		verifier, state, nonce := oauth2.GenerateVerifier(), rand.Text(), rand.Text()
		authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce),
			oauth2.SetAuthURLParam("login_hint", "amara"))
		code := e.codeFrom(t, get(t, e.browser(), authURL), state)

		tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange() error = %v, want nil", err)
		}
		rawID, _ := tok.Extra("id_token").(string)
		idt, err := prov.Verifier(&gooidc.Config{ClientID: webClientID}).Verify(t.Context(), rawID)
		if err != nil {
			t.Fatalf("Verify(id_token) error = %v, want nil", err)
		}
		if idt.Subject != "amara" {
			t.Errorf("id_token sub = %q, want %q", idt.Subject, "amara")
		}
		if idt.Nonce != nonce {
			t.Errorf("id_token nonce = %q, want %q", idt.Nonce, nonce)
		}
		if idt.Issuer != e.issuer {
			t.Errorf("id_token iss = %q, want %q", idt.Issuer, e.issuer)
		}
		if !slices.Equal(idt.Audience, []string{webClientID}) {
			t.Errorf("id_token aud = %q, want [%s]", idt.Audience, webClientID)
		}
		if life := time.Until(idt.Expiry); life <= 0 || life > 2*time.Hour || idt.IssuedAt.IsZero() {
			t.Errorf("id_token exp in %v, iat %v, want a near future exp and an iat", life, idt.IssuedAt)
		}
		var claims struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatalf("id_token Claims() error = %v", err)
		}
		if claims.Name != "Amara Okafor" || claims.Email != "amara@example.test" {
			t.Errorf("id_token name, email = %q, %q, want %q, %q", claims.Name, claims.Email, "Amara Okafor", "amara@example.test")
		}

		info, err := prov.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("UserInfo() error = %v, want nil", err)
		}
		if info.Subject != "amara" || info.Email != "amara@example.test" {
			t.Errorf("UserInfo() sub, email = %q, %q, want %q, %q", info.Subject, info.Email, "amara", "amara@example.test")
		}
	})

	t.Run("PickerWithoutHint", func(t *testing.T) {
		e := newEnv(t)
		cfg, prov := e.oauth(t)
		verifier, state := oauth2.GenerateVerifier(), rand.Text()
		resp := get(t, e.browser(), cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
		id := e.pickerRequestID(t, resp)

		form := url.Values{"authRequestID": {id}, "subject": {"bea"}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.issuer+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.base)
		post, err := e.browser().Do(req)
		if err != nil {
			t.Fatalf("POST login error = %v, want nil", err)
		}
		defer post.Body.Close()
		code := e.codeFrom(t, post, state)

		tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange() error = %v, want nil", err)
		}
		rawID, _ := tok.Extra("id_token").(string)
		idt, err := prov.Verifier(&gooidc.Config{ClientID: webClientID}).Verify(t.Context(), rawID)
		if err != nil {
			t.Fatalf("Verify(id_token) error = %v, want nil", err)
		}
		if idt.Subject != "bea" {
			t.Errorf("id_token sub = %q, want %q", idt.Subject, "bea")
		}

		// The finished auth request cannot be completed again.
		again, err := http.PostForm(e.issuer+"/login", form)
		if err != nil {
			t.Fatalf("second POST login error = %v", err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusBadRequest {
			t.Errorf("second POST login status = %d, want %d", again.StatusCode, http.StatusBadRequest)
		}
	})

	t.Run("UnknownHintShowsPicker", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		resp := get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("login_hint", "nobody")))
		e.pickerRequestID(t, resp)
	})

	t.Run("PickerRefusesCrossOriginPost", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		resp := get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		id := e.pickerRequestID(t, resp)
		form := url.Values{"authRequestID": {id}, "subject": {"amara"}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.issuer+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://evil.example")
		post, err := e.browser().Do(req)
		if err != nil {
			t.Fatalf("POST login error = %v", err)
		}
		post.Body.Close()
		if post.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin POST login status = %d, want %d", post.StatusCode, http.StatusForbidden)
		}
	})

	t.Run("PickerRefusesUnknownPerson", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		resp := get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		id := e.pickerRequestID(t, resp)
		post, err := http.PostForm(e.issuer+"/login", url.Values{"authRequestID": {id}, "subject": {"mallory"}})
		if err != nil {
			t.Fatalf("POST login error = %v", err)
		}
		post.Body.Close()
		if post.StatusCode != http.StatusBadRequest {
			t.Errorf("POST login(unknown person) status = %d, want %d", post.StatusCode, http.StatusBadRequest)
		}
	})

	t.Run("RefusesMissingCodeChallenge", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		q := e.redirectParams(t, get(t, e.browser(), cfg.AuthCodeURL("s1", oauth2.SetAuthURLParam("login_hint", "amara"))))
		if q.Get("error") != "invalid_request" || q.Get("code") != "" || q.Get("state") != "s1" {
			t.Errorf("authorize without code_challenge redirect = %v, want error=invalid_request, state=s1, no code", q)
		}
	})

	t.Run("RefusesPlainCodeChallenge", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		v := oauth2.GenerateVerifier()
		q := e.redirectParams(t, get(t, e.browser(), cfg.AuthCodeURL("s2",
			oauth2.SetAuthURLParam("code_challenge", v),
			oauth2.SetAuthURLParam("code_challenge_method", "plain"),
			oauth2.SetAuthURLParam("login_hint", "amara"))))
		if q.Get("error") != "invalid_request" || q.Get("code") != "" {
			t.Errorf("authorize with plain code_challenge redirect = %v, want error=invalid_request, no code", q)
		}
	})

	t.Run("RefusesWrongVerifier", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		verifier := oauth2.GenerateVerifier()
		code := e.codeFrom(t, get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("login_hint", "amara"))), "s")
		tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if got := retrieveErrorCode(err); got != "invalid_grant" {
			t.Errorf("Exchange(wrong verifier) = %v, %v, want error invalid_grant", tok, err)
		}
		tok, err = cfg.Exchange(t.Context(), code)
		if err == nil {
			t.Errorf("Exchange(no verifier) = %v, nil, want an error", tok)
		}
	})

	t.Run("RefusesCodeReuse", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		verifier := oauth2.GenerateVerifier()
		code := e.codeFrom(t, get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("login_hint", "amara"))), "s")
		if _, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("first Exchange() error = %v, want nil", err)
		}
		tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
		if got := retrieveErrorCode(err); got != "invalid_grant" {
			t.Errorf("second Exchange() = %v, %v, want error invalid_grant", tok, err)
		}
	})

	t.Run("RefusesWrongClientSecret", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		verifier := oauth2.GenerateVerifier()
		code := e.codeFrom(t, get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("login_hint", "amara"))), "s")
		cfg.ClientSecret = "wrong"
		tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
		if got := retrieveErrorCode(err); got != "invalid_client" {
			t.Errorf("Exchange(wrong secret) = %v, %v, want error invalid_client", tok, err)
		}
	})

	t.Run("MachineClientRefused", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		cfg.ClientID, cfg.ClientSecret = machineClientID, machineSecret
		resp := get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("login_hint", "amara")))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("authorize(machine client) status = %d, Location %q, want %d", resp.StatusCode, resp.Header.Get("Location"), http.StatusBadRequest)
		}
	})

	t.Run("PromptNoneWithoutHint", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		q := e.redirectParams(t, get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("prompt", "none"))))
		if q.Get("error") != "login_required" || q.Get("code") != "" {
			t.Errorf("authorize(prompt=none) redirect = %v, want error=login_required, no code", q)
		}
	})

	t.Run("AuthRequestExpires", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		resp := get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		id := e.pickerRequestID(t, resp)
		e.clock.Advance(authRequestTTL + time.Second)
		post, err := http.PostForm(e.issuer+"/login", url.Values{"authRequestID": {id}, "subject": {"amara"}})
		if err != nil {
			t.Fatalf("POST login error = %v", err)
		}
		post.Body.Close()
		if post.StatusCode != http.StatusBadRequest {
			t.Errorf("POST login(expired request) status = %d, want %d", post.StatusCode, http.StatusBadRequest)
		}
	})

	t.Run("CodeExpires", func(t *testing.T) {
		e := newEnv(t)
		cfg, _ := e.oauth(t)
		verifier := oauth2.GenerateVerifier()
		code := e.codeFrom(t, get(t, e.browser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("login_hint", "amara"))), "s")
		e.clock.Advance(authCodeTTL + time.Second)
		tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
		if got := retrieveErrorCode(err); got != "invalid_grant" {
			t.Errorf("Exchange(expired code) = %v, %v, want error invalid_grant", tok, err)
		}
	})
}

var requestIDInput = regexp.MustCompile(`<input type="hidden" name="authRequestID" value="([^"]+)">`)

// pickerRequestID asserts resp is the login page and returns its auth request id.
func (e *testEnv) pickerRequestID(t *testing.T, resp *http.Response) string {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading login page: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/dev-idp/login" {
		t.Fatalf("login page = %d at %s, want 200 at /dev-idp/login; body %q", resp.StatusCode, resp.Request.URL, body)
	}
	page := string(body)
	for _, want := range []string{"Choose who to sign in as", ">Amara Okafor</button>", ">Bea Lindqvist</button>",
		`<form method="post" action="/dev-idp/login">`, `name="subject" value="amara"`, `<html lang="en">`} {
		if !strings.Contains(page, want) {
			t.Errorf("login page does not contain %q; page:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("login page has scripts or external references; page:\n%s", page)
	}
	h := resp.Header
	if got := h.Get("Cache-Control"); got != "no-store" {
		t.Errorf("login page Cache-Control = %q, want %q", got, "no-store")
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'unsafe-inline'", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("login page Content-Security-Policy = %q, want it to contain %q", csp, want)
		}
	}
	m := requestIDInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("login page has no authRequestID input; page:\n%s", page)
	}
	if got := resp.Request.URL.Query().Get("authRequestID"); got != m[1] {
		t.Errorf("login page authRequestID input = %q, want %q from the URL", m[1], got)
	}
	return m[1]
}

func TestProvider_ClientCredentials(t *testing.T) {
	e := newEnv(t)
	_, prov := e.oauth(t)
	tokenURL := prov.Endpoint().TokenURL
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := prov.Claims(&meta); err != nil {
		t.Fatalf("provider Claims() error = %v", err)
	}
	keySet := gooidc.NewRemoteKeySet(t.Context(), meta.JWKS)

	for _, style := range []struct {
		name  string
		style oauth2.AuthStyle
	}{{"BasicAuth", oauth2.AuthStyleInHeader}, {"PostAuth", oauth2.AuthStyleInParams}} {
		t.Run(style.name, func(t *testing.T) {
			cc := clientcredentials.Config{ClientID: machineClientID, ClientSecret: machineSecret, TokenURL: tokenURL,
				AuthStyle: style.style, Scopes: []string{"consents:read"}}
			tok, err := cc.Token(t.Context())
			if err != nil {
				t.Fatalf("Token() error = %v, want nil", err)
			}
			payload, err := keySet.VerifySignature(t.Context(), tok.AccessToken)
			if err != nil {
				t.Fatalf("VerifySignature(access token) error = %v, want nil", err)
			}
			var claims struct {
				Iss      string   `json:"iss"`
				Sub      string   `json:"sub"`
				Aud      audience `json:"aud"`
				ClientID string   `json:"client_id"`
				Exp      int64    `json:"exp"`
			}
			if err := json.Unmarshal(payload, &claims); err != nil {
				t.Fatalf("unmarshal access token claims: %v", err)
			}
			if claims.Iss != e.issuer {
				t.Errorf("access token iss = %q, want %q", claims.Iss, e.issuer)
			}
			if claims.Sub != machineClientID {
				t.Errorf("access token sub = %q, want %q", claims.Sub, machineClientID)
			}
			if claims.ClientID != machineClientID {
				t.Errorf("access token client_id = %q, want %q", claims.ClientID, machineClientID)
			}
			if !slices.Contains(claims.Aud, machineClientID) {
				t.Errorf("access token aud = %q, want it to contain %q", claims.Aud, machineClientID)
			}
			if exp := time.Unix(claims.Exp, 0); !exp.After(time.Now()) {
				t.Errorf("access token exp = %v, want in the future", exp)
			}

			// A token whose payload is altered no longer verifies.
			parts := strings.Split(tok.AccessToken, ".")
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), machineClientID, "someone-else", 1)))
			if _, err := keySet.VerifySignature(t.Context(), strings.Join(parts, ".")); err == nil {
				t.Errorf("VerifySignature(tampered token) = nil, want an error")
			}
		})
	}

	t.Run("WebClientRefused", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: webClientID, ClientSecret: webSecret, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader}
		tok, err := cc.Token(t.Context())
		if got := retrieveErrorCode(err); got != "unauthorized_client" {
			t.Errorf("Token(web client) = %v, %v, want error unauthorized_client", tok, err)
		}
	})

	t.Run("WrongSecretRefused", func(t *testing.T) {
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cc := clientcredentials.Config{ClientID: machineClientID, ClientSecret: "wrong", TokenURL: tokenURL, AuthStyle: style}
			tok, err := cc.Token(t.Context())
			if got := retrieveErrorCode(err); got != "invalid_client" {
				t.Errorf("Token(wrong secret, style %d) = %v, %v, want error invalid_client", style, tok, err)
			}
		}
	})

	t.Run("UnknownClientRefused", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: "nobody", ClientSecret: "x", TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader}
		tok, err := cc.Token(t.Context())
		if got := retrieveErrorCode(err); got != "invalid_client" {
			t.Errorf("Token(unknown client) = %v, %v, want error invalid_client", tok, err)
		}
	})
}

// audience accepts the aud claim as a string or an array.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

func TestProvider_EndSession(t *testing.T) {
	e := newEnv(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	t.Run("RegisteredPostLogoutRedirect", func(t *testing.T) {
		q := url.Values{"client_id": {webClientID}, "post_logout_redirect_uri": {e.base + "/"}, "state": {"bye"}}
		resp := get(t, noFollow, e.issuer+"/end_session?"+q.Encode())
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != e.base+"/?state=bye" {
			t.Errorf("end_session = %d Location %q, want 302 to %q", resp.StatusCode, loc, e.base+"/?state=bye")
		}
	})

	t.Run("UnregisteredPostLogoutRedirectRefused", func(t *testing.T) {
		q := url.Values{"client_id": {webClientID}, "post_logout_redirect_uri": {"http://evil.example/"}}
		resp := get(t, noFollow, e.issuer+"/end_session?"+q.Encode())
		if resp.StatusCode == http.StatusFound {
			t.Errorf("end_session(unregistered redirect) = 302 Location %q, want a refusal", resp.Header.Get("Location"))
		}
	})

	t.Run("DefaultSignedOutPage", func(t *testing.T) {
		resp := get(t, http.DefaultClient, e.issuer+"/end_session")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/dev-idp/logged-out" || !strings.Contains(string(body), "You have signed out") {
			t.Errorf("end_session without client = %d at %s, want 200 at /dev-idp/logged-out saying you have signed out", resp.StatusCode, resp.Request.URL)
		}
	})
}
