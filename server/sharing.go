package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
)

// decodeJSON reads a small JSON body strictly: unknown fields and trailing
// data are errors, so a typo is never silently ignored.
func decodeJSON(c echo.Context, v any) error {
	r := c.Request()
	if ct := r.Header.Get(echo.HeaderContentType); ct != "" && ct != echo.MIMEApplicationJSON && ct != echo.MIMEApplicationJSONCharsetUTF8 {
		return consent.Invalid("body", "send application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return consent.Invalid("body", "not valid JSON for this request: "+jsonProblem(err))
	}
	if dec.More() {
		return consent.Invalid("body", "more than one JSON value")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the input back.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %q has the wrong type", typeErr.Field)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("syntax error at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	default:
		return "unknown or malformed field"
	}
}

type categoryJSON struct {
	ID     string `json:"id"`
	Parent string `json:"parent,omitempty"`
	Name   string `json:"name"`
	About  string `json:"about"`
}

type purposeJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Sentence    string `json:"sentence"`
	LawfulBasis string `json:"lawfulBasis"`
	Statutory   bool   `json:"statutory"`
}

func (s *Server) handleCatalogue(c echo.Context) error {
	cat := s.svc.Catalogue()
	out := struct {
		Categories []categoryJSON `json:"categories"`
		Purposes   []purposeJSON  `json:"purposes"`
	}{}
	for _, x := range cat.Categories {
		out.Categories = append(out.Categories, categoryJSON{x.ID, x.Parent, x.Name, x.About})
	}
	for _, p := range cat.Purposes {
		out.Purposes = append(out.Purposes, purposeJSON{p.ID, p.Name, p.Sentence, string(p.Basis), p.Statutory})
	}
	return c.JSON(http.StatusOK, out)
}

type holdingJSON struct {
	ID             string    `json:"id"`
	OrganisationID string    `json:"organisationId"`
	Category       string    `json:"category"`
	Since          time.Time `json:"since"`
	System         string    `json:"system"`
}

func (s *Server) handleHoldings(c echo.Context) error {
	hs, err := s.svc.Holdings(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	out := []holdingJSON{}
	for _, h := range hs {
		out = append(out, holdingJSON{h.ID, h.OrganisationID, h.Category, h.Since, h.System})
	}
	return c.JSON(http.StatusOK, map[string]any{"holdings": out})
}

type grantJSON struct {
	ID             string     `json:"id"`
	ProfessionalID string     `json:"professionalId"`
	YoungPersonID  string     `json:"youngPersonId"`
	Category       string     `json:"category"`
	Purpose        string     `json:"purpose"`
	GrantedBy      string     `json:"grantedBy"`
	RequestID      string     `json:"requestId,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
	Until          time.Time  `json:"until"`
	StoppedAt      *time.Time `json:"stoppedAt,omitempty"`
	StoppedBy      string     `json:"stoppedBy,omitempty"`
	Active         bool       `json:"active"`
	Statutory      bool       `json:"statutory,omitempty"`
	StoryVersion   int        `json:"storyVersion,omitempty"`
}

func (s *Server) grantOut(g consent.Grant) grantJSON {
	out := grantJSON{ID: g.ID, ProfessionalID: g.ProfessionalID, YoungPersonID: g.YoungPersonID, Category: g.Category, Purpose: g.Purpose,
		GrantedBy: g.GrantedBy, RequestID: g.RequestID, CreatedAt: g.CreatedAt, Until: g.Until, StoppedBy: g.StoppedBy, Active: g.ActiveAt(s.now()),
		Statutory: g.Statutory, StoryVersion: g.StoryVersion}
	if !g.StoppedAt.IsZero() {
		t := g.StoppedAt
		out.StoppedAt = &t
	}
	return out
}

func (s *Server) handleGrants(c echo.Context) error {
	gs, err := s.svc.Grants(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	out := []grantJSON{}
	for _, g := range gs {
		out = append(out, s.grantOut(g))
	}
	return c.JSON(http.StatusOK, map[string]any{"grants": out})
}

func (s *Server) handleCreateGrant(c echo.Context) error {
	var in struct {
		ProfessionalID string     `json:"professionalId"`
		Category       string     `json:"category"`
		Purpose        string     `json:"purpose"`
		Until          *time.Time `json:"until"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ng := consent.NewGrant{ProfessionalID: in.ProfessionalID, Category: in.Category, Purpose: in.Purpose}
	if in.Until != nil {
		ng.Until = *in.Until
	}
	g, receipt, err := s.svc.Grant(c.Request().Context(), personID(c), c.Param("ypId"), ng)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"grant": s.grantOut(g), "receipt": receipt})
}

func (s *Server) handleStopGrant(c echo.Context) error {
	g, receipt, err := s.svc.StopGrant(c.Request().Context(), personID(c), c.Param("ypId"), c.Param("grantId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"grant": s.grantOut(g), "receipt": receipt})
}

type requestJSON struct {
	ID             string     `json:"id"`
	ProfessionalID string     `json:"professionalId"`
	OrganisationID string     `json:"organisationId"`
	YoungPersonID  string     `json:"youngPersonId"`
	Categories     []string   `json:"categories"`
	Purpose        string     `json:"purpose"`
	Reason         string     `json:"reason"`
	DurationDays   int        `json:"durationDays"`
	CreatedAt      time.Time  `json:"createdAt"`
	ExpiresAt      time.Time  `json:"expiresAt"`
	Status         string     `json:"status"`
	Approved       []string   `json:"approved"`
	DecidedBy      string     `json:"decidedBy,omitempty"`
	DecidedAt      *time.Time `json:"decidedAt,omitempty"`
	Message        string     `json:"message,omitempty"`
}

func requestOut(r consent.AccessRequest) requestJSON {
	out := requestJSON{ID: r.ID, ProfessionalID: r.ProfessionalID, OrganisationID: r.OrganisationID, YoungPersonID: r.YoungPersonID,
		Categories: r.Categories, Purpose: r.Purpose, Reason: r.Reason, DurationDays: r.DurationDays, CreatedAt: r.CreatedAt,
		ExpiresAt: r.ExpiresAt, Status: string(r.Status), Approved: r.Approved, DecidedBy: r.DecidedBy, Message: r.Message}
	if out.Approved == nil {
		out.Approved = []string{}
	}
	if !r.DecidedAt.IsZero() {
		t := r.DecidedAt
		out.DecidedAt = &t
	}
	return out
}

func (s *Server) handleRequests(c echo.Context) error {
	rs, err := s.svc.Requests(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	out := []requestJSON{}
	for _, r := range rs {
		out = append(out, requestOut(r))
	}
	return c.JSON(http.StatusOK, map[string]any{"requests": out})
}

func (s *Server) handleAsk(c echo.Context) error {
	var in struct {
		Categories   []string `json:"categories"`
		Purpose      string   `json:"purpose"`
		Reason       string   `json:"reason"`
		DurationDays int      `json:"durationDays"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.svc.Ask(c.Request().Context(), personID(c), c.Param("ypId"), consent.NewRequest(in))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, requestOut(r))
}

func (s *Server) handleDecide(c echo.Context) error {
	var in struct {
		Approve []string `json:"approve"`
		Message string   `json:"message"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, grants, err := s.svc.Decide(c.Request().Context(), personID(c), c.Param("ypId"), c.Param("requestId"), consent.Decision(in))
	if err != nil {
		return err
	}
	gs := []grantJSON{}
	for _, g := range grants {
		gs = append(gs, s.grantOut(g))
	}
	return c.JSON(http.StatusOK, map[string]any{"request": requestOut(r), "grants": gs})
}

func (s *Server) handleBlock(c echo.Context) error {
	var in struct {
		ProfessionalID string `json:"professionalId"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.ProfessionalID == "" {
		return consent.Invalid("professionalId", "say who to block")
	}
	if err := s.svc.Block(c.Request().Context(), personID(c), c.Param("ypId"), in.ProfessionalID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) handleUnblock(c echo.Context) error {
	if err := s.svc.Unblock(c.Request().Context(), personID(c), c.Param("ypId"), c.Param("professionalId")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) handleCompetence(c echo.Context) error {
	var in struct {
		Competent bool   `json:"competent"`
		Note      string `json:"note"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.svc.RecordCompetence(c.Request().Context(), personID(c), c.Param("ypId"), in.Competent, in.Note); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// refusals maps a refused read to the words the professional sees.
var refusals = map[consent.Reason]string{
	consent.ReasonNoSharing:          "Nothing has been shared with you about this person.",
	consent.ReasonNotProfessional:    "Only professionals can read shared information.",
	consent.ReasonMembershipEnded:    "Your membership of your organisation has ended.",
	consent.ReasonBlocked:            "This young person has chosen not to share with you.",
	consent.ReasonWrongPurpose:       "This was not shared with you for that purpose.",
	consent.ReasonCategoryNotGranted: "This kind of information has not been shared with you.",
	consent.ReasonStopped:            "This sharing has been stopped.",
	consent.ReasonExpired:            "This sharing has ended.",
	consent.ReasonUnknownCategory:    "There is no such kind of information.",
	consent.ReasonUnknownPurpose:     "There is no such purpose.",
	consent.ReasonNotStatutoryRole:   "Your role does not hold a statutory duty in Sayso.",
	consent.ReasonNoStatutoryAccess:  "You have not opened statutory access for this, or it has ended.",
}

func refusedProblem(v consent.Verdict) Problem {
	return Problem{Type: problemBase + "refused:" + string(v.Reason), Title: "Not shared with you", Status: http.StatusForbidden, Detail: refusals[v.Reason]}
}

type recordJSON struct {
	HoldingID        string    `json:"holdingId"`
	OrganisationID   string    `json:"organisationId"`
	OrganisationName string    `json:"organisationName"`
	Category         string    `json:"category"`
	Since            time.Time `json:"since"`
	System           string    `json:"system"`
	Content          string    `json:"content"`
	Version          int       `json:"version,omitempty"` // of a story section
}

func (s *Server) handleReadRecords(c echo.Context) error {
	purpose := c.QueryParam("purpose")
	if purpose == "" {
		return consent.Invalid("purpose", "say why you are looking, with ?purpose=")
	}
	q := consent.Question{YoungPersonID: c.Param("ypId"), ProfessionalID: personID(c), Category: c.Param("category"), Purpose: purpose}
	read, err := s.svc.ReadRecords(c.Request().Context(), q, consent.ChannelAPI)
	if err != nil {
		return err
	}
	if !read.Verdict.Allowed {
		return writeProblem(c, refusedProblem(read.Verdict))
	}
	out := []recordJSON{}
	for _, r := range read.Records {
		out = append(out, recordJSON{r.Holding.ID, r.Organisation.ID, r.Organisation.Name, r.Holding.Category, r.Holding.Since, r.Holding.System, r.Holding.Summary, r.Version})
	}
	return c.JSON(http.StatusOK, map[string]any{"category": q.Category, "purpose": purpose, "grantId": read.Verdict.GrantID, "logIndex": read.LogIndex,
		"statutory": read.Verdict.Statutory, "records": out})
}

func (s *Server) handleJWKS(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, s.jwks)
}
