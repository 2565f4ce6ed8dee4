package server

import (
	"net/http"
	"strings"

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
		org, ok := s.cfg.Holders[claims.ClientID]
		if !ok {
			return writeProblem(c, httpProblem(http.StatusForbidden, "This client is not a holder system Sayso knows."))
		}
		c.Set("holder_org", org)
		c.Set("holder_client", claims.ClientID)
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
	}
	ctx := c.Request().Context()
	org := c.Get("holder_org").(string)
	// A holder system speaks for its own organisation's professionals only.
	if ok, err := s.svc.MemberOf(ctx, in.ProfessionalID, org); err != nil {
		return err
	} else if !ok {
		return writeProblem(c, httpProblem(http.StatusForbidden, "This professional is not part of your organisation."))
	}
	v, idx, err := s.svc.HolderDecision(ctx, c.Get("holder_client").(string), consent.Question{YoungPersonID: in.YoungPersonID, ProfessionalID: in.ProfessionalID, Category: in.Category, Purpose: in.Purpose})
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
