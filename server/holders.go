package server

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"

	"sayso/consent"
)

// holderAuth admits holder systems (school or case-management software)
// that present an access token from the configured issuer, obtained with
// client credentials by a client the operator has named.
func (s *Server) holderAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		raw, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		unauthorised := func(detail string) error {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="sayso", error="invalid_token"`)
			return writeProblem(c, httpProblem(http.StatusUnauthorized, detail))
		}
		if !ok || raw == "" {
			return unauthorised("Send an access token from the identity provider.")
		}
		p, err := s.rp.discover(ctx)
		if err != nil {
			return consent.ErrUnavailable
		}
		// The audience of a client-credentials token is the client itself,
		// so the client id is checked against the operator's list instead.
		// Verifier, not VerifierContext: it shares the provider's cached key
		// set (fetched again only for a key id it has not seen), where
		// VerifierContext fetched the JWKS on every decision.
		clientID, ok := s.tokens.get(raw, s.now())
		if !ok {
			tok, err := p.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(ctx, raw)
			if err != nil {
				return unauthorised("The access token is not valid.")
			}
			var claims struct {
				ClientID string `json:"client_id"`
			}
			if err := tok.Claims(&claims); err != nil || claims.ClientID == "" || claims.ClientID != tok.Subject {
				return unauthorised("The access token is not a holder system's token.")
			}
			clientID = claims.ClientID
			s.tokens.put(raw, clientID, tok.Expiry, s.now())
		}
		org, ok := s.cfg.Holders[clientID]
		if !ok {
			return writeProblem(c, httpProblem(http.StatusForbidden, "This client is not a holder system Sayso knows."))
		}
		c.Set("holder_org", org)
		c.Set("holder_client", clientID)
		return next(c)
	}
}

func (s *Server) handleDecision(c echo.Context) error {
	var in struct {
		ProfessionalID string `json:"professionalId"`
		YoungPersonID  string `json:"youngPersonId"`
		Category       string `json:"category"`
		Purpose        string `json:"purpose"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	for field, v := range map[string]string{"professionalId": in.ProfessionalID, "youngPersonId": in.YoungPersonID, "category": in.Category, "purpose": in.Purpose} {
		if v == "" {
			return consent.Invalid(field, "is required")
		}
		if !validID(v) {
			return consent.Invalid(field, "is not an id")
		}
	}
	ctx := c.Request().Context()
	org := c.Get("holder_org").(string)
	// A holder system speaks for its own organisation's professionals only.
	if ok, err := s.svc.MemberOf(ctx, in.ProfessionalID, org); err != nil {
		return err
	} else if !ok {
		return writeProblem(c, httpProblem(http.StatusForbidden, "This professional is not part of your organisation."))
	}
	v, idx, err := s.svc.HolderDecision(ctx, c.Get("holder_client").(string), consent.Question{YoungPersonID: in.YoungPersonID, ProfessionalID: in.ProfessionalID, OrganisationID: org, Category: in.Category, Purpose: in.Purpose})
	if err != nil {
		return err
	}
	decision := "deny"
	if v.Allowed {
		decision = "permit"
	}
	out := map[string]any{"decision": decision, "reason": string(v.Reason), "logIndex": idx}
	if v.GrantID != "" {
		out["grantId"] = v.GrantID
	}
	return c.JSON(http.StatusOK, out)
}

// tokenCache remembers access tokens that verified, by their SHA-256, until
// they expire and for at most tokenCacheTTL. A holder system sends the same
// token with every decision for its lifetime (an hour from the development
// provider); verifying its RS256 signature each time was a fifth of the CPU
// of a decision under sayso bench. The zero value is ready to use.
type tokenCache struct {
	mu sync.Mutex
	m  map[[32]byte]verifiedToken
}

type verifiedToken struct {
	clientID string
	until    time.Time
}

const (
	tokenCacheTTL  = 5 * time.Minute
	tokenCacheSize = 1024
)

func (c *tokenCache) get(raw string, now time.Time) (string, bool) {
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[key]
	if !ok || !now.Before(t.until) {
		return "", false
	}
	return t.clientID, true
}

func (c *tokenCache) put(raw, clientID string, expiry, now time.Time) {
	until := now.Add(tokenCacheTTL)
	if expiry.Before(until) {
		until = expiry
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[32]byte]verifiedToken{}
	}
	if len(c.m) >= tokenCacheSize {
		for k, t := range c.m {
			if !now.Before(t.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= tokenCacheSize {
			clear(c.m)
		}
	}
	c.m[key] = verifiedToken{clientID: clientID, until: until}
}
