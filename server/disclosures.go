package server

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
)

type feedItemJSON struct {
	LogIndex       int64     `json:"logIndex"`
	At             time.Time `json:"at"`
	Sentence       string    `json:"sentence"`
	ActorID        string    `json:"actorId"`
	ActorName      string    `json:"actorName"`
	Role           string    `json:"role,omitempty"`
	OrganisationID string    `json:"organisationId,omitempty"`
	Category       string    `json:"category"`
	Purpose        string    `json:"purpose"`
	LawfulBasis    string    `json:"lawfulBasis,omitempty"`
	Channel        string    `json:"channel"`
	Statutory      bool      `json:"statutory,omitempty"`
}

func (s *Server) handleFeed(c echo.Context) error {
	before, err := int64Param(c, "before", -1)
	if err != nil {
		return err
	}
	limit, err := int64Param(c, "limit", 50)
	if err != nil {
		return err
	}
	items, err := s.svc.Feed(c.Request().Context(), personID(c), c.Param("ypId"), before, int(limit))
	if err != nil {
		return err
	}
	out := []feedItemJSON{}
	for _, it := range items {
		d := it.Disclosure
		out = append(out, feedItemJSON{it.Index, d.At, it.Sentence, d.ActorID, d.ActorName, string(d.ActorRole), d.OrganisationID, d.Category, d.Purpose, string(d.LawfulBasis), string(d.Channel), d.Statutory})
	}
	return c.JSON(http.StatusOK, map[string]any{"disclosures": out})
}

func int64Param(c echo.Context, name string, def int64) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, consent.Invalid(name, "must be a whole number, 0 or more")
	}
	return n, nil
}

// entryJSON is a DPO's view of one log entry.
type entryJSON struct {
	LogIndex       int64      `json:"logIndex"`
	At             time.Time  `json:"at"`
	ActorID        string     `json:"actorId"`
	ActorName      string     `json:"actorName"`
	Role           string     `json:"role,omitempty"`
	OrganisationID string     `json:"organisationId"`
	YoungPersonID  string     `json:"youngPersonId"`
	Category       string     `json:"category"`
	Purpose        string     `json:"purpose"`
	LawfulBasis    string     `json:"lawfulBasis,omitempty"`
	GrantID        string     `json:"grantId,omitempty"`
	Channel        string     `json:"channel"`
	Outcome        string     `json:"outcome"`
	Reason         string     `json:"reason,omitempty"`
	HolderClient   string     `json:"holderClient,omitempty"`
	Statutory      bool       `json:"statutory,omitempty"`
	Condition      string     `json:"condition,omitempty"`
	About          string     `json:"about,omitempty"`
	ReviewBy       *time.Time `json:"reviewBy,omitempty"`
}

func entryOut(e consent.Logged) entryJSON {
	d := e.Disclosure
	out := entryJSON{e.Index, d.At, d.ActorID, d.ActorName, string(d.ActorRole), d.OrganisationID, d.YoungPersonID, d.Category, d.Purpose,
		string(d.LawfulBasis), d.GrantID, string(d.Channel), string(d.Outcome), string(d.Reason), d.HolderClient, d.Statutory, d.Condition, d.About, nil}
	if !d.ReviewBy.IsZero() {
		t := d.ReviewBy
		out.ReviewBy = &t
	}
	return out
}

func (e entryJSON) csvRow() []string {
	return []string{strconv.FormatInt(e.LogIndex, 10), e.At.Format(time.RFC3339Nano), e.ActorID, e.ActorName, e.Role, e.OrganisationID,
		e.YoungPersonID, e.Category, e.Purpose, e.LawfulBasis, e.GrantID, e.Channel, e.Outcome, e.Reason, e.HolderClient}
}

var csvHeader = []string{"logIndex", "at", "actorId", "actorName", "role", "organisationId", "youngPersonId", "category", "purpose", "lawfulBasis", "grantId", "channel", "outcome", "reason", "holderClient"}

func parseFilter(c echo.Context) (consent.DisclosureFilter, error) {
	f := consent.DisclosureFilter{
		ActorID: c.QueryParam("professionalId"), YoungPersonID: c.QueryParam("youngPersonId"), Category: c.QueryParam("category"),
		Purpose: c.QueryParam("purpose"), LawfulBasis: consent.LawfulBasis(c.QueryParam("lawfulBasis")), Outcome: consent.Outcome(c.QueryParam("outcome")),
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := c.QueryParam(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, consent.Invalid(name, "must be a date and time such as 2026-03-03T09:00:00Z")
			}
			*dst = t
		}
	}
	return f, nil
}

// handleOrgDisclosures serves a DPO's view: a JSON page with a cursor, or
// the whole filtered log as CSV or JSON Lines, streamed page by page so the
// export never holds the log in memory.
func (s *Server) handleOrgDisclosures(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := parseFilter(c)
	if err != nil {
		return err
	}
	after := int64(-1)
	if cur := c.QueryParam("cursor"); cur != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		n, perr := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || perr != nil || n < 0 {
			return consent.Invalid("cursor", "is not a cursor this list gave out")
		}
		after = n
	}
	limit, err := int64Param(c, "limit", 100)
	if err != nil {
		return err
	}
	if limit == 0 || limit > 1000 {
		return consent.Invalid("limit", "must be from 1 to 1000")
	}
	orgID, actor := c.Param("orgId"), personID(c)
	format := c.QueryParam("format")
	switch format {
	case "", "json":
		entries, err := s.svc.OrgDisclosures(ctx, actor, orgID, f, after, int(limit))
		if err != nil {
			return err
		}
		out := []entryJSON{}
		for _, e := range entries {
			out = append(out, entryOut(e))
		}
		body := map[string]any{"disclosures": out}
		if len(entries) > 0 && len(entries) == int(limit) {
			body["nextCursor"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(entries[len(entries)-1].Index, 10)))
		}
		return c.JSON(http.StatusOK, body)
	case "csv", "jsonl":
	default:
		return consent.Invalid("format", "must be json, csv or jsonl")
	}
	// Check access before the first byte, so a refusal is a clean problem.
	first, err := s.svc.OrgDisclosures(ctx, actor, orgID, f, after, 500)
	if err != nil {
		return err
	}
	w := c.Response()
	if format == "csv" {
		w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="disclosures.csv"`)
	} else {
		w.Header().Set(echo.HeaderContentType, "application/jsonl")
		w.Header().Set("Content-Disposition", `attachment; filename="disclosures.jsonl"`)
	}
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	enc := json.NewEncoder(w)
	if format == "csv" {
		_ = cw.Write(csvHeader)
	}
	page := first
	for len(page) > 0 {
		for _, e := range page {
			j := entryOut(e)
			if format == "csv" {
				if err := cw.Write(j.csvRow()); err != nil {
					return err
				}
			} else if err := enc.Encode(j); err != nil {
				return err
			}
		}
		cw.Flush()
		w.Flush()
		if len(page) < 500 {
			break
		}
		if page, err = s.svc.OrgDisclosures(ctx, actor, orgID, f, page[len(page)-1].Index, 500); err != nil {
			return err
		}
	}
	return nil
}

// The log, for anyone to check.

func (s *Server) handleCheckpoint(c echo.Context) error {
	_, signed, err := s.log.Latest(c.Request().Context())
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", signed)
}

func (s *Server) handleLogKey(c echo.Context) error {
	return c.String(http.StatusOK, s.log.VerifierKey()+"\n")
}

// handleLogKeys lists every verifier key, current first, one per line, so
// checkpoints signed before a key rotation still verify.
func (s *Server) handleLogKeys(c echo.Context) error {
	return c.String(http.StatusOK, strings.Join(s.log.VerifierKeys(), "\n")+"\n")
}

func (s *Server) handleProof(c echo.Context) error {
	index, err := strconv.ParseInt(c.Param("index"), 10, 64)
	if err != nil || index < 0 {
		return consent.Invalid("index", "must be a whole number, 0 or more")
	}
	treeSize, err := int64Param(c, "treeSize", 0)
	if err != nil {
		return err
	}
	p, err := s.log.Prove(c.Request().Context(), index, treeSize)
	if errors.Is(err, consent.ErrNotFound) {
		return writeProblem(c, httpProblem(http.StatusNotFound, "There is no signed checkpoint of that size."))
	}
	if err != nil {
		return err
	}
	proof := make([]string, len(p.Hashes))
	for i, h := range p.Hashes {
		proof[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return c.JSON(http.StatusOK, map[string]any{
		"index": p.Index, "treeSize": p.TreeSize, "leafHash": base64.StdEncoding.EncodeToString(p.LeafHash[:]),
		"proof": proof, "checkpoint": string(p.Checkpoint),
	})
}
