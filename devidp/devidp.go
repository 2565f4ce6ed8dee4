// Package devidp is a development-only OpenID provider.
//
// In development mode Sayso runs this provider in the same process, under a
// path prefix of the same host (for example http://127.0.0.1:8080/dev-idp),
// so that sign-in runs the real OpenID Connect code path against demo people
// instead of a real identity provider.
//
// The protocol is implemented by github.com/zitadel/oidc/v3/pkg/op; this
// package supplies a small in-memory op.Storage, a login page that lets the
// developer choose a demo person, and login_hint support so that automated
// tests can sign in without HTML interaction.
//
// It is not a production identity provider: all state is in memory, there
// are no passwords, and New refuses to run unless Config.Dev is true.
package devidp

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Person is a demo person who can sign in.
type Person struct {
	Subject string // stable id, for example "amara"; becomes the sub claim
	Name    string
	Email   string
}

// Client is a registered OAuth client.
type Client struct {
	ID     string
	Secret string // empty for a public web client (PKCE only); required for a machine client

	// RedirectURIs are the exact redirect URIs of a web (authorisation code) client.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string

	// ClientCredentials marks a machine client (a holder system) that may only
	// use grant_type=client_credentials. It must have a Secret and no redirect URIs.
	ClientCredentials bool
}

// Config configures the development provider.
type Config struct {
	// Dev must be true: the provider only runs in development mode.
	Dev bool
	// Issuer is the issuer URL, for example "http://127.0.0.1:8080/dev-idp".
	// The provider is served under the issuer's path on the same host.
	Issuer  string
	People  []Person
	Clients []Client
	// SigningKey signs ID tokens and access tokens with RS256. The key id is
	// derived from the public key, so it is stable across restarts.
	SigningKey *rsa.PrivateKey
	// CryptoKey is the op crypto key used to encrypt authorisation codes.
	CryptoKey [32]byte
	// Now is an optional clock for the expiry of sign-in requests, codes and
	// access tokens; nil means time.Now. Token iat/exp stamped by the OIDC
	// library itself always use the real clock.
	Now func() time.Time
}

// Lifetimes of the provider's in-memory state.
const (
	authRequestTTL = 5 * time.Minute // from the authorize request to the login
	authCodeTTL    = 5 * time.Minute // from issuing the code to exchanging it
	accessTokenTTL = time.Hour
	idTokenTTL     = time.Hour
	maxPending     = 10000 // cap on unexpired sign-in requests / tokens held in memory
)

// Paths under the issuer path that this package serves itself.
const (
	loginPath     = "/login"
	loggedOutPath = "/logged-out"
)

// Provider is the development OpenID provider.
type Provider struct {
	logger  *slog.Logger
	issuer  string
	origin  string // scheme://host of the issuer
	prefix  string // path of the issuer, e.g. "/dev-idp"
	storage *storage
	op      *op.Provider
	handler http.Handler
}

// New builds the development provider. It returns an error unless cfg.Dev is
// true, or if the configuration is invalid.
func New(logger *slog.Logger, cfg Config) (*Provider, error) {
	if !cfg.Dev {
		return nil, errors.New("devidp: the development OpenID provider only runs in development mode (Config.Dev is false)")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	issuerURL, err := parseIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	if cfg.SigningKey == nil {
		return nil, errors.New("devidp: Config.SigningKey is required")
	}
	if cfg.SigningKey.N.BitLen() < 2048 {
		return nil, fmt.Errorf("devidp: Config.SigningKey is %d bits, want at least 2048", cfg.SigningKey.N.BitLen())
	}
	if cfg.CryptoKey == ([32]byte{}) {
		return nil, errors.New("devidp: Config.CryptoKey must not be all zero")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}

	p := &Provider{
		logger: logger,
		issuer: cfg.Issuer,
		origin: issuerURL.Scheme + "://" + issuerURL.Host,
		prefix: issuerURL.Path,
	}
	p.storage, err = newStorage(logger, cfg, now, cfg.Issuer+loginPath)
	if err != nil {
		return nil, err
	}

	opConfig := &op.Config{
		CryptoKey:                cfg.CryptoKey,
		DefaultLogoutRedirectURI: cfg.Issuer + loggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedUILocales:       []language.Tag{language.English},
	}
	p.op, err = op.NewProvider(opConfig, p.storage, op.StaticIssuer(cfg.Issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("devidp: creating OpenID provider: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p.prefix+loginPath, p.handleLoginPage)
	mux.HandleFunc("POST "+p.prefix+loginPath, p.handleLoginSubmit)
	mux.HandleFunc("GET "+p.prefix+loggedOutPath, p.handleLoggedOut)
	mux.Handle(p.prefix+"/", http.StripPrefix(p.prefix, p.op))
	p.handler = commonHeaders(mux)

	logger.Warn("devidp: development OpenID provider enabled; never enable it in production",
		slog.String("issuer", cfg.Issuer),
		slog.Int("people", len(cfg.People)),
		slog.Int("clients", len(cfg.Clients)))
	return p, nil
}

// Handler serves everything under the issuer's path prefix. Mount it at
// PathPrefix()+"/" of the outer mux without stripping the prefix.
func (p *Provider) Handler() http.Handler { return p.handler }

// PathPrefix is the path of the issuer, for example "/dev-idp".
func (p *Provider) PathPrefix() string { return p.prefix }

// issuerPath is a plain path, safe to use in http.ServeMux patterns.
var issuerPath = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

func parseIssuer(issuer string) (*url.URL, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("devidp: Config.Issuer %q is not a URL: %w", issuer, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("devidp: Config.Issuer %q must be an http or https URL", issuer)
	case u.Host == "":
		return nil, fmt.Errorf("devidp: Config.Issuer %q has no host", issuer)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.RawPath != "":
		return nil, fmt.Errorf("devidp: Config.Issuer %q must not have user info, a query, a fragment or escaped characters", issuer)
	case u.Path == "" || u.Path == "/":
		return nil, fmt.Errorf("devidp: Config.Issuer %q must have a path prefix such as /dev-idp", issuer)
	case strings.HasSuffix(u.Path, "/"):
		return nil, fmt.Errorf("devidp: Config.Issuer %q must not end with a slash", issuer)
	case !issuerPath.MatchString(u.Path):
		return nil, fmt.Errorf("devidp: Config.Issuer %q: the path may only use letters, digits and . _ ~ - between slashes", issuer)
	}
	return u, nil
}

// commonHeaders adds headers that suit every response of the provider.
func commonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
