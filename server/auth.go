package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"sayso/consent"
	"sayso/frontend"
)

// OIDCConfig names the identity provider people sign in with.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// HTTPClient reaches the provider; nil means a client with a timeout.
	HTTPClient *http.Client
}

// relyingParty signs people in with an OpenID provider. Discovery happens on
// first use and is retried until it succeeds, so Sayso starts even while the
// provider is briefly away; go-oidc insists the discovered issuer is exactly
// the configured one.
type relyingParty struct {
	cfg         OIDCConfig
	redirectURL string
	http        *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

func newRelyingParty(cfg OIDCConfig, redirectURL string) *relyingParty {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &relyingParty{cfg: cfg, redirectURL: redirectURL, http: hc}
}

func (rp *relyingParty) discover(ctx context.Context) (*oidc.Provider, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.provider != nil {
		return rp.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, rp.http), rp.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	rp.provider = p
	return p, nil
}

func (rp *relyingParty) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     rp.cfg.ClientID,
		ClientSecret: rp.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  rp.redirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "profile"},
	}
}

// loginState is what the browser carries, sealed, between /login and the
// callback: it binds state, nonce and the PKCE verifier to this browser.
type loginState struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	ReturnTo string    `json:"r"`
	Expires  time.Time `json:"e"`
}

const loginTTL = 10 * time.Minute

// signInError is a sign-in that did not finish; Reason is logged, never shown.
type signInError struct {
	Status int
	Reason string
}

func (e *signInError) Error() string { return e.Reason }

func (s *Server) handleLogin(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.rp.discover(ctx)
	if err != nil {
		s.logger.Warn("identity provider discovery failed", slog.String("error", err.Error()))
		return s.signInProblem(c, http.StatusBadGateway)
	}
	st := loginState{
		State:    randomToken(24),
		Nonce:    randomToken(24),
		Verifier: oauth2.GenerateVerifier(),
		ReturnTo: safeReturn(c.QueryParam("return_to")),
		Expires:  s.now().Add(loginTTL),
	}
	sealed, err := s.sealer.seal(s.cookies.login, st)
	if err != nil {
		return err
	}
	s.setCookie(c, s.cookies.login, sealed, loginTTL)
	opts := []oauth2.AuthCodeOption{oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)}
	if hint := c.QueryParam("login_hint"); hint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	return c.Redirect(http.StatusFound, s.rp.oauth2(p).AuthCodeURL(st.State, opts...))
}

func (s *Server) handleCallback(c echo.Context) error {
	// Whatever happens next, this sign-in attempt is over.
	s.clearCookie(c, s.cookies.login)
	person, returnTo, err := s.finishSignIn(c)
	if err != nil {
		var se *signInError
		if errors.As(err, &se) {
			s.logger.Info("sign-in refused", slog.String("reason", se.Reason))
			if se.Status == http.StatusForbidden {
				return s.pages.Render(c, http.StatusForbidden, "unknown-person", frontend.Page{Title: "We don't know you yet"})
			}
			return s.signInProblem(c, se.Status)
		}
		return err
	}
	if err := s.startSession(c, person.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, returnTo)
}

// finishSignIn checks everything the provider sent back and returns the
// person it names, and where to go next.
func (s *Server) finishSignIn(c echo.Context) (consent.Person, string, error) {
	ctx := c.Request().Context()
	refuse := func(status int, format string, args ...any) (consent.Person, string, error) {
		return consent.Person{}, "", &signInError{Status: status, Reason: fmt.Sprintf(format, args...)}
	}
	var st loginState
	if err := s.sealer.open(s.cookies.login, cookieValue(c, s.cookies.login), &st); err != nil {
		return refuse(http.StatusBadRequest, "no sign-in in progress in this browser")
	}
	if s.now().After(st.Expires) {
		return refuse(http.StatusBadRequest, "sign-in attempt expired")
	}
	if q := c.QueryParam("state"); q == "" || q != st.State {
		return refuse(http.StatusBadRequest, "state does not match")
	}
	if e := c.QueryParam("error"); e != "" {
		return refuse(http.StatusBadRequest, "provider returned error %q", truncate(e, 40))
	}
	code := c.QueryParam("code")
	if code == "" {
		return refuse(http.StatusBadRequest, "no code")
	}
	p, err := s.rp.discover(ctx)
	if err != nil {
		return refuse(http.StatusBadGateway, "discovery: %v", err)
	}
	tok, err := s.rp.oauth2(p).Exchange(oidc.ClientContext(ctx, s.rp.http), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return refuse(http.StatusBadRequest, "code exchange failed")
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return refuse(http.StatusBadRequest, "no id_token")
	}
	// Token lifetimes are the provider's wall-clock time, not Sayso's clock.
	verifier := p.VerifierContext(oidc.ClientContext(ctx, s.rp.http), &oidc.Config{ClientID: s.rp.cfg.ClientID})
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return refuse(http.StatusBadRequest, "id token rejected: %v", err)
	}
	// go-oidc leaves azp to us: a token issued to another client, or to
	// several audiences without naming us as the party it was issued to, is
	// not ours to accept.
	var extra struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&extra); err != nil {
		return refuse(http.StatusBadRequest, "id token claims unreadable")
	}
	if (extra.AZP != "" && extra.AZP != s.rp.cfg.ClientID) || (len(idt.Audience) > 1 && extra.AZP == "") {
		return refuse(http.StatusBadRequest, "id token was issued to another party")
	}
	// go-oidc leaves the nonce to us.
	if idt.Nonce == "" || idt.Nonce != st.Nonce {
		return refuse(http.StatusBadRequest, "nonce missing or does not match")
	}
	if err := s.store.UseOnce(ctx, "oidc-nonce:"+st.Nonce, idt.Expiry.Add(time.Hour)); err != nil {
		if errors.Is(err, consent.ErrConflict) {
			return refuse(http.StatusBadRequest, "nonce replayed")
		}
		return consent.Person{}, "", err
	}
	person, err := s.svc.Identify(ctx, idt.Subject)
	if errors.Is(err, consent.ErrNotFound) {
		return refuse(http.StatusForbidden, "subject not known to Sayso")
	}
	return person, st.ReturnTo, err
}

func (s *Server) signInProblem(c echo.Context, status int) error {
	return s.pages.Render(c, status, "signin-problem", frontend.Page{Title: "Signing in didn't work"})
}

// safeReturn keeps only local paths, so /login cannot be used to send people
// to another site.
func safeReturn(p string) string {
	// Browsers drop tabs and newlines from URLs and read \ as /, so any
	// control character or backslash could turn /x into //evil.example.
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') ||
		strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return p
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Sessions.

type ctxKey int

const personKey ctxKey = iota

func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// startSession always mints a new id, so a session id planted before sign-in
// is worthless after it.
func (s *Server) startSession(c echo.Context, personID string) error {
	if old := cookieValue(c, s.cookies.session); old != "" {
		_ = s.store.DeleteSession(c.Request().Context(), hashSessionID(old))
	}
	id := randomToken(32)
	now := consent.Millis(s.now())
	sess := consent.Session{IDHash: hashSessionID(id), PersonID: personID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionAbsolute)}
	if err := s.store.CreateSession(c.Request().Context(), sess); err != nil {
		return err
	}
	s.setCookie(c, s.cookies.session, id, 0)
	return nil
}

// session loads the signed-in person, if any, enforcing idle and absolute
// time-outs. A session past either is deleted.
func (s *Server) session() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := cookieValue(c, s.cookies.session)
			if id == "" {
				return next(c)
			}
			ctx := c.Request().Context()
			h := hashSessionID(id)
			sess, err := s.store.GetSession(ctx, h)
			if errors.Is(err, consent.ErrNotFound) {
				s.clearCookie(c, s.cookies.session)
				return next(c)
			}
			if err != nil {
				return err
			}
			now := s.now()
			if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdle {
				_ = s.store.DeleteSession(ctx, h)
				s.clearCookie(c, s.cookies.session)
				return next(c)
			}
			// Touch at most once a minute: the idle clock needs no finer grain.
			if now.Sub(sess.LastSeenAt) > time.Minute {
				if err := s.store.TouchSession(ctx, h, consent.Millis(now)); err != nil && !errors.Is(err, consent.ErrNotFound) {
					return err
				}
			}
			c.Set("person", sess.PersonID)
			c.SetRequest(c.Request().WithContext(context.WithValue(ctx, personKey, sess.PersonID)))
			return next(c)
		}
	}
}

// personID returns the signed-in person's id, or "".
func personID(c echo.Context) string {
	id, _ := c.Get("person").(string)
	return id
}

// requireSignIn answers 401 problem+json to an API call with no session.
func requireSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if personID(c) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="sayso"`)
			return writeProblem(c, httpProblem(http.StatusUnauthorized, "Sign in first."))
		}
		return next(c)
	}
}

func (s *Server) handleLogout(c echo.Context) error {
	if id := cookieValue(c, s.cookies.session); id != "" {
		if err := s.store.DeleteSession(c.Request().Context(), hashSessionID(id)); err != nil {
			return err
		}
	}
	s.clearCookie(c, s.cookies.session)
	return c.Redirect(http.StatusSeeOther, "/")
}

// Cookies.

type cookieNames struct{ session, login string }

// newCookieNames uses the __Host- prefix whenever cookies are Secure; a
// browser refuses __Host- cookies that are not, so plain-http development
// uses unprefixed names.
func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{session: "__Host-sayso_session", login: "__Host-sayso_login"}
	}
	return cookieNames{session: "sayso_session", login: "sayso_login"}
}

func (s *Server) setCookie(c echo.Context, name, value string, ttl time.Duration) {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	if ttl > 0 {
		ck.MaxAge = int(ttl.Seconds())
	}
	c.SetCookie(ck)
}

func (s *Server) clearCookie(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func cookieValue(c echo.Context, name string) string {
	ck, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}
