package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
	"sayso/frontend"
	"sayso/ledger"
)

// A DPO's pages: every disclosure of their organisation in a filterable
// table with export, the concerns young people raised (with a way to
// answer), and the log's integrity.

func (s *Server) dpoView(c echo.Context, orgID, current, title string, data any) frontend.Page {
	p := s.view(c, title, data)
	base := "/dpo/" + url.PathEscape(orgID)
	for _, it := range []struct{ path, label string }{{"/disclosures", "Disclosures"}, {"/concerns", "Questions"}, {"/statutory", "Statutory access"}, {"/log", "The log"}} {
		p.Nav = append(p.Nav, frontend.NavItem{Href: base + it.path, Label: it.label, Current: it.path == current})
	}
	return p
}

// dpoOrg checks that the viewer is the organisation's DPO (ErrNotFound if
// not) and returns the organisation.
func (s *Server) dpoOrg(c echo.Context, orgID string) (consent.Organisation, error) {
	me, err := s.svc.Me(c.Request().Context(), personID(c))
	if err != nil {
		return consent.Organisation{}, err
	}
	for _, r := range me.Roles {
		if r.Kind == consent.KindDPO && r.Organisation.ID == orgID {
			return r.Organisation, nil
		}
	}
	return consent.Organisation{}, consent.ErrNotFound
}

type option struct {
	Value, Label string
	Selected     bool
}

type filterForm struct {
	From, To, Professional, YoungPerson, Category, Purpose, Basis, Outcome string
}

type entryRow struct {
	Index                                                   int64
	When, Who, Role, YoungPerson, What, Why, Basis, Outcome string
	How, OutcomeClass                                       string
	Refused                                                 bool
}

type disclosuresData struct {
	Org                                                               consent.Organisation
	Base                                                              string
	Filter                                                            filterForm
	Professionals, YoungPeople, Categories, Purposes, Bases, Outcomes []option
	Rows                                                              []entryRow
	CSV, Next                                                         string
	FromErr, ToErr                                                    string
	Filtered                                                          bool
}

func options(selected string, pairs ...string) []option {
	out := []option{{Value: "", Label: "Any", Selected: selected == ""}}
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, option{Value: pairs[i], Label: pairs[i+1], Selected: pairs[i] == selected})
	}
	return out
}

var basisWords = map[consent.LawfulBasis]string{
	consent.BasisConsent:         "Consent",
	consent.BasisPublicTask:      "Public task",
	consent.BasisVitalInterests:  "Vital interests",
	consent.BasisLegalObligation: "Legal obligation",
}

var outcomeWords = map[consent.Outcome]string{
	consent.OutcomeDisclosed: "Disclosed",
	consent.OutcomeRefused:   "Refused",
	consent.OutcomePermitted: "Permitted",
	consent.OutcomeDenied:    "Denied",
}

var channelWords = map[consent.Channel]string{
	consent.ChannelPortal: "Sayso page",
	consent.ChannelAPI:    "Sayso API",
	consent.ChannelHolder: "Holder system",
}

const dpoPageSize = 50

func (s *Server) pageDPODisclosures(c echo.Context) error {
	return s.dpoDisclosures(c, c.Param("orgId"))
}

func (s *Server) dpoDisclosures(c echo.Context, orgID string) error {
	ctx := c.Request().Context()
	org, err := s.dpoOrg(c, orgID)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	f := filterForm{From: q.Get("from"), To: q.Get("to"), Professional: q.Get("professional"), YoungPerson: q.Get("youngPerson"),
		Category: q.Get("category"), Purpose: q.Get("purpose"), Basis: q.Get("basis"), Outcome: q.Get("outcome")}
	d := disclosuresData{Org: org, Base: "/dpo/" + url.PathEscape(orgID), Filter: f}
	filter := consent.DisclosureFilter{ActorID: f.Professional, YoungPersonID: f.YoungPerson, Category: f.Category, Purpose: f.Purpose,
		LawfulBasis: consent.LawfulBasis(f.Basis), Outcome: consent.Outcome(f.Outcome)}
	var errs []frontend.FieldError
	day := func(v, field string, end bool) (time.Time, string) {
		if v == "" {
			return time.Time{}, ""
		}
		t, err := time.ParseInLocation("2006-01-02", v, frontendLondon())
		if err != nil {
			errs = append(errs, frontend.FieldError{Field: field, Message: "Enter a date such as 2026-03-27"})
			return time.Time{}, "Enter a date such as 2026-03-27"
		}
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, ""
	}
	filter.From, d.FromErr = day(f.From, "from", false)
	filter.To, d.ToErr = day(f.To, "to", true)
	d.Filtered = f != filterForm{}

	after := int64(-1)
	if v := q.Get("after"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			after = n
		}
	}
	var entries []consent.Logged
	if len(errs) == 0 {
		if entries, err = s.svc.OrgDisclosures(ctx, personID(c), orgID, filter, after, dpoPageSize); err != nil {
			return err
		}
	}
	cat := s.svc.Catalogue()
	names := s.names(c)
	for _, e := range entries {
		x := e.Disclosure
		row := entryRow{Index: e.Index, When: frontend.DateTime(x.At), Who: x.ActorName, Role: upperFirst(roleName(x.ActorRole)),
			What: categoryLabel(cat, x.Category), Why: purposeLabel(cat, x.Purpose), Basis: basisWords[x.LawfulBasis],
			Outcome: outcomeWords[x.Outcome], How: channelWords[x.Channel], Refused: x.Outcome == consent.OutcomeRefused || x.Outcome == consent.OutcomeDenied}
		if x.Erased {
			row.YoungPerson = "(erased)"
		} else {
			row.YoungPerson = names.person(x.YoungPersonID).Name
		}
		row.OutcomeClass = "tag--green"
		if row.Refused {
			row.OutcomeClass = "tag--red"
		}
		d.Rows = append(d.Rows, row)
	}
	if len(entries) == dpoPageSize {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", strconv.FormatInt(entries[len(entries)-1].Index, 10))
		d.Next = d.Base + "/disclosures?" + nq.Encode()
	}
	// The export is the API's, with the same filters.
	csv := url.Values{"format": {"csv"}}
	for k, v := range map[string]string{"professionalId": f.Professional, "youngPersonId": f.YoungPerson, "category": f.Category,
		"purpose": f.Purpose, "lawfulBasis": f.Basis, "outcome": f.Outcome} {
		if v != "" {
			csv.Set(k, v)
		}
	}
	if !filter.From.IsZero() {
		csv.Set("from", filter.From.UTC().Format(time.RFC3339))
	}
	if !filter.To.IsZero() {
		csv.Set("to", filter.To.UTC().Format(time.RFC3339))
	}
	d.CSV = "/v1/organisations/" + url.PathEscape(orgID) + "/disclosures?" + csv.Encode()

	// Filter choices.
	var profPairs []string
	if ms, err := s.svc.WorkersIn(ctx, personID(c), orgID); err == nil {
		for _, w := range ms {
			profPairs = append(profPairs, w.ID, w.Name)
		}
	}
	d.Professionals = options(f.Professional, profPairs...)
	var ypPairs []string
	if ids, err := s.svc.HeldBy(ctx, personID(c), orgID); err == nil {
		for _, id := range ids {
			ypPairs = append(ypPairs, id, names.person(id).Name)
		}
	}
	d.YoungPeople = options(f.YoungPerson, ypPairs...)
	var catPairs, purPairs []string
	for _, k := range cat.Categories {
		catPairs = append(catPairs, k.ID, categoryLabel(cat, k.ID))
	}
	for _, p := range cat.Purposes {
		purPairs = append(purPairs, p.ID, p.Name)
	}
	d.Categories, d.Purposes = options(f.Category, catPairs...), options(f.Purpose, purPairs...)
	d.Bases = options(f.Basis, "consent", "Consent", "public-task", "Public task", "vital-interests", "Vital interests", "legal-obligation", "Legal obligation")
	d.Outcomes = options(f.Outcome, "disclosed", "Disclosed", "refused", "Refused", "permitted", "Permitted", "denied", "Denied")

	p := s.dpoView(c, orgID, "/disclosures", "Disclosures", d)
	p.Errors = errs
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusBadRequest
	}
	return s.show(c, status, "dpo-disclosures", p)
}

// Concerns.

type concernRow struct {
	ID, Raised, YoungPerson, RaisedBy, Message string
	Entry                                      string
	Answer, AnsweredBy                         string
	Typed, Error                               string
	Due                                        string
	Overdue                                    bool
}

func (s *Server) concernsPage(c echo.Context, status int, org consent.Organisation, typedFor, typed string, errs []frontend.FieldError) error {
	ctx := c.Request().Context()
	cs, err := s.svc.OrgConcerns(ctx, personID(c), org.ID)
	if err != nil {
		return err
	}
	cat := s.svc.Catalogue()
	names := s.names(c)
	p := s.dpoView(c, org.ID, "/concerns", "Questions", nil)
	p.Errors = errs
	var rows []concernRow
	for _, k := range cs {
		d := k.Disclosure
		row := concernRow{ID: k.Concern.ID, Raised: frontend.DateTime(k.Concern.CreatedAt), YoungPerson: names.person(k.Concern.YoungPersonID).Name,
			Message: k.Concern.Message, Answer: k.Concern.Answer, Due: frontend.Date(k.Concern.DueBy()), Overdue: k.Concern.Overdue(s.now())}
		if k.Concern.RaisedBy != k.Concern.YoungPersonID {
			row.RaisedBy = names.person(k.Concern.RaisedBy).Name + " (family, acting for them)"
		}
		row.Entry = d.ActorName + " (" + roleName(d.ActorRole) + ") — " + categoryLabel(cat, d.Category) + " — " + purposeLabel(cat, d.Purpose) +
			" — " + basisWords[d.LawfulBasis] + " — " + frontend.DateTime(d.At) + " — log entry " + strconv.FormatInt(k.Concern.LogIndex, 10)
		if k.Concern.AnsweredBy != "" {
			row.AnsweredBy = names.person(k.Concern.AnsweredBy).Name + ", " + frontend.DateTime(k.Concern.AnsweredAt)
		}
		if typedFor == row.ID {
			row.Typed, row.Error = typed, p.ErrorFor("answer-"+row.ID)
		}
		rows = append(rows, row)
	}
	p.Data = struct {
		Org  consent.Organisation
		Base string
		Rows []concernRow
	}{org, "/dpo/" + url.PathEscape(org.ID), rows}
	return s.show(c, status, "dpo-concerns", p)
}

func (s *Server) pageDPOConcerns(c echo.Context) error {
	org, err := s.dpoOrg(c, c.Param("orgId"))
	if err != nil {
		return err
	}
	return s.concernsPage(c, http.StatusOK, org, "", "", nil)
}

func (s *Server) pageDPOAnswer(c echo.Context) error {
	org, err := s.dpoOrg(c, c.Param("orgId"))
	if err != nil {
		return err
	}
	id, answer := c.Param("concernId"), c.FormValue("answer")
	_, err = s.svc.AnswerConcern(c.Request().Context(), personID(c), org.ID, id, answer)
	if errs, err := formErrors(err, map[string]frontend.FieldError{"answer": {Field: "answer-" + id, Message: "Write an answer of up to 2,000 characters"}}); err != nil {
		return err
	} else if errs != nil {
		return s.concernsPage(c, http.StatusBadRequest, org, id, answer, errs)
	}
	s.setFlash(c, "Your answer has been sent. The young person will see it beside the entry.")
	return c.Redirect(http.StatusSeeOther, "/dpo/"+url.PathEscape(org.ID)+"/concerns")
}

// The log's integrity: the latest signed checkpoint and the result of the
// last check made from this page. The result is kept by this server
// instance; `sayso verify-log` is the full offline check.

type verifyResult struct {
	At      time.Time
	By      string
	Report  ledger.Report
	Failure string
}

func (s *Server) pageDPOLog(c echo.Context) error {
	org, err := s.dpoOrg(c, c.Param("orgId"))
	if err != nil {
		return err
	}
	size, signed, err := s.log.Latest(c.Request().Context())
	if err != nil {
		return err
	}
	d := struct {
		Org        consent.Organisation
		Base       string
		Size       int64
		Checkpoint string
		Key        string
		Checked    bool
		At, By     string
		OK         bool
		Entries    int64
		Checkpts   int
		Problem    string
	}{Org: org, Base: "/dpo/" + url.PathEscape(org.ID), Size: size, Checkpoint: string(signed), Key: s.log.VerifierKey()}
	if v, ok := s.verifies.Load(org.ID); ok {
		r := v.(verifyResult)
		d.Checked, d.At, d.By = true, frontend.DateTime(r.At), r.By
		d.OK, d.Entries, d.Checkpts, d.Problem = r.Failure == "" && r.Report.OK(), r.Report.Entries, r.Report.Checkpoints, r.Report.Problem
		if r.Failure != "" {
			d.Problem = r.Failure
		}
	}
	return s.show(c, http.StatusOK, "dpo-log", s.dpoView(c, org.ID, "/log", "The log", d))
}

func (s *Server) pageDPOVerify(c echo.Context) error {
	org, err := s.dpoOrg(c, c.Param("orgId"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
	defer cancel()
	rep, err := ledger.Verify(ctx, s.store, s.log.VerifierKeys(), s.log.Origin(), nil)
	r := verifyResult{At: s.now(), By: s.names(c).person(personID(c)).Name, Report: rep}
	if err != nil {
		r.Failure = "The check could not finish: Sayso could not read the whole log in time. Try again, or run sayso verify-log."
	}
	s.verifies.Store(org.ID, r)
	if r.Failure == "" && rep.OK() {
		s.setFlash(c, "The log checked out: every entry and every signed checkpoint is as it was written.")
	} else {
		s.setFlash(c, "The log check found a problem. See below.")
	}
	return c.Redirect(http.StatusSeeOther, "/dpo/"+url.PathEscape(org.ID)+"/log")
}
