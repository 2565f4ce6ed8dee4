package server

// The pages people use (issue 6): server-rendered HTML that works without
// JavaScript, with forms, redirects after every change (POST-redirect-GET)
// and an anti-forgery token on every form. Handlers call the same
// consent.Service methods as the JSON API; the rules live there.
//
// URLs carry ids only, never what a page is about in words: a young
// person's pages are under /yp/:ypId, a professional's under /work, a DPO's
// under /dpo/:orgId.

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
	"sayso/frontend"
)

// pageRoutes registers pages with the sign-in check, the anti-forgery check
// on every POST, and a route name starting "page:" (which the API's
// authorisation matrix leaves to the pages' own).
type pageRoutes struct {
	s *Server
	e *echo.Echo
}

func (s *Server) pageRouter() pageRoutes { return pageRoutes{s: s, e: s.echo} }

func (p pageRoutes) GET(path string, h echo.HandlerFunc) {
	r := p.e.GET(path, h, p.s.requirePageSignIn)
	r.Name = "page:GET " + path
}

func (p pageRoutes) POST(path string, h echo.HandlerFunc, extra ...echo.MiddlewareFunc) {
	r := p.e.POST(path, h, append([]echo.MiddlewareFunc{p.s.requirePageSignIn, p.s.checkCSRF}, extra...)...)
	r.Name = "page:POST " + path
}

// requirePageSignIn sends someone who is not signed in to sign in, coming
// back here afterwards.
func (s *Server) requirePageSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if personID(c) == "" {
			back := "/"
			if c.Request().Method == http.MethodGet {
				back = c.Request().URL.RequestURI()
			}
			return c.Redirect(http.StatusSeeOther, "/login?return_to="+url.QueryEscape(back))
		}
		return next(c)
	}
}

// Anti-forgery tokens: the session id's hash, sealed with the server's
// cookie key (AES-GCM), so a token is bound to this session and cannot be
// made or read by anyone else. Every page POST must carry one.

const csrfField = "csrf"

func (s *Server) csrfToken(c echo.Context) string {
	sid := cookieValue(c, s.cookies.session)
	if sid == "" {
		return ""
	}
	tok, err := s.sealer.seal("csrf", hashSessionID(sid))
	if err != nil {
		return ""
	}
	return tok
}

var errForgery = echo.NewHTTPError(http.StatusForbidden, "the form's anti-forgery token is missing or wrong")

func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sid := cookieValue(c, s.cookies.session)
		var bound string
		if sid == "" || s.sealer.open("csrf", c.FormValue(csrfField), &bound) != nil ||
			subtle.ConstantTimeCompare([]byte(bound), []byte(hashSessionID(sid))) != 1 {
			return errForgery
		}
		return next(c)
	}
}

// Short-lived browser state: a success message for the next page (flash),
// and a draft of a multi-page form. Both are sealed cookies, so they are
// neither readable nor changeable in the browser.

func (s *Server) cookieName(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

func (s *Server) setFlash(c echo.Context, msg string) {
	if v, err := s.sealer.seal("flash", msg); err == nil {
		s.setCookie(c, s.cookieName("sayso_flash"), v, 5*time.Minute)
	}
}

func (s *Server) takeFlash(c echo.Context) string {
	name := s.cookieName("sayso_flash")
	v := cookieValue(c, name)
	if v == "" {
		return ""
	}
	s.clearCookie(c, name)
	var msg string
	if s.sealer.open("flash", v, &msg) != nil {
		return ""
	}
	return msg
}

// draft is what a multi-page form has gathered so far. It belongs to one
// person, about one young person.
type draft struct {
	Actor string `json:"a"`
	YP    string `json:"y"`
	// Sharing something new.
	Professional string `json:"p,omitempty"`
	Category     string `json:"c,omitempty"`
	Purpose      string `json:"u,omitempty"`
	Length       string `json:"l,omitempty"`
	Day          string `json:"dd,omitempty"`
	Month        string `json:"mm,omitempty"`
	Year         string `json:"yy,omitempty"`
	// Answering a request.
	Request string            `json:"r,omitempty"`
	Answers map[string]string `json:"ans,omitempty"` // category -> "yes" or "no"
	Message string            `json:"m,omitempty"`
}

const draftTTL = 30 * time.Minute

// Drafts of different forms are kept apart: someone can answer a request
// in the middle of sharing something.
const (
	shareDraft  = "share"
	answerDraft = "answer"
)

func (s *Server) saveDraft(c echo.Context, kind string, d draft) error {
	d.Actor = personID(c)
	v, err := s.sealer.seal("draft-"+kind, d)
	if err != nil {
		return err
	}
	s.setCookie(c, s.cookieName("sayso_"+kind), v, draftTTL)
	return nil
}

// loadDraft returns the draft of a kind for ypID, or an empty one.
func (s *Server) loadDraft(c echo.Context, kind, ypID string) draft {
	var d draft
	if v := cookieValue(c, s.cookieName("sayso_"+kind)); v != "" {
		if s.sealer.open("draft-"+kind, v, &d) != nil || d.Actor != personID(c) || d.YP != ypID {
			d = draft{}
		}
	}
	d.YP = ypID
	return d
}

func (s *Server) clearDraft(c echo.Context, kind string) {
	s.clearCookie(c, s.cookieName("sayso_"+kind))
}

// Rendering.

// view builds the page every template receives.
func (s *Server) view(c echo.Context, title string, data any) frontend.Page {
	p := s.page(c, title, data)
	p.CSRF = s.csrfToken(c)
	p.Flash = s.takeFlash(c)
	if p.SignedIn {
		p.IdleSeconds = int(s.cfg.SessionIdle / time.Second)
	}
	return p
}

func (s *Server) show(c echo.Context, status int, name string, p frontend.Page) error {
	return s.pages.Render(c, status, name, p)
}

// formErrors turns a consent error into field errors for the summary, with
// the words to show; other errors come back as they are.
func formErrors(err error, fields map[string]frontend.FieldError) ([]frontend.FieldError, error) {
	var inv *consent.InvalidError
	if errors.As(err, &inv) {
		if fe, ok := fields[inv.Field]; ok {
			return []frontend.FieldError{fe}, nil
		}
	}
	return nil, err
}

// choice is one radio or checkbox; radios is a question of them.
type choice struct {
	ID, Value, Label, Hint string
	Checked                bool
	Reveal                 bool // show the conditional part when chosen
}

type question struct {
	Name, Legend, Hint, Error string
	Heading                   bool // the legend is the page's heading
	Checkboxes                bool
	Small                     bool
	Choices                   []choice
}

// newQuestion builds a question whose first choice's id is the field name,
// so an error summary link lands on it.
func newQuestion(name, legend string, selected []string, opts ...choice) question {
	q := question{Name: name, Legend: legend}
	for i, o := range opts {
		o.ID = name
		if i > 0 {
			o.ID = name + "-" + o.Value
		}
		for _, v := range selected {
			if v == o.Value {
				o.Checked = true
			}
		}
		q.Choices = append(q.Choices, o)
	}
	return q
}

// Words.

// roleName is "social worker" for a role.
func roleName(r consent.Role) string {
	w := consent.RoleWords(r)
	w = strings.TrimPrefix(w, "a ")
	return strings.TrimPrefix(w, "an ")
}

// workerWords is "Sam Patel, social worker at Riverside Council".
func workerWords(w consent.Worker) string {
	if w.Organisation.Name == "" {
		return w.Person.Name
	}
	return w.Person.Name + ", " + roleName(w.Role) + " at " + w.Organisation.Name
}

func firstName(name string) string {
	first, _, _ := strings.Cut(name, " ")
	return first
}

func possessive(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

var orgKindWords = map[consent.OrgKind]string{
	consent.OrgCouncil: "a council",
	consent.OrgSchool:  "a school",
	consent.OrgCharity: "a charity",
	consent.OrgHealth:  "a health service",
}

// workerName looks up a professional's words once per request.
type nameCache struct {
	s       *Server
	c       echo.Context
	workers map[string]consent.Worker
	people  map[string]consent.Person
}

func (s *Server) names(c echo.Context) *nameCache {
	return &nameCache{s: s, c: c, workers: map[string]consent.Worker{}, people: map[string]consent.Person{}}
}

func (n *nameCache) worker(id string) consent.Worker {
	if w, ok := n.workers[id]; ok {
		return w
	}
	w, err := n.s.svc.WorkerOf(n.c.Request().Context(), id)
	if err != nil && w.Person.ID == "" {
		w.Person = n.person(id)
	}
	n.workers[id] = w
	return w
}

func (n *nameCache) person(id string) consent.Person {
	if p, ok := n.people[id]; ok {
		return p
	}
	p, err := n.s.svc.Person(n.c.Request().Context(), id)
	if err != nil {
		p = consent.Person{ID: id, Name: "Someone"}
	}
	n.people[id] = p
	return p
}

// Home.

// area is one part of Sayso a person can use.
type area struct {
	Kind  consent.RoleKind
	Href  string
	Label string
	Hint  string
	ypID  string
	orgID string
}

func (s *Server) areas(me consent.Me) []area {
	var out []area
	if me.Person.IsYoungPerson() {
		out = append(out, area{Kind: consent.KindYoungPerson, Href: "/yp/" + url.PathEscape(me.Person.ID), Label: "Your own Sayso",
			Hint: "Who knows about you, who can see what, and who has looked.", ypID: me.Person.ID})
	}
	for _, a := range me.ActsFor {
		if a.Relationship == "self" {
			continue
		}
		out = append(out, area{Kind: consent.KindFamily, Href: "/yp/" + url.PathEscape(a.YoungPerson.ID), Label: "Use Sayso for " + a.YoungPerson.Name,
			Hint: "You decide for " + firstName(a.YoungPerson.Name) + " for now.", ypID: a.YoungPerson.ID})
	}
	for _, v := range me.Sees {
		first := firstName(v.YoungPerson.Name)
		out = append(out, area{Kind: consent.KindFamily, Href: "/yp/" + url.PathEscape(v.YoungPerson.ID), Label: "See what " + first + " shares with you",
			Hint: first + " decides for themselves, and chose what you can see.", ypID: v.YoungPerson.ID})
	}
	for _, r := range me.Roles {
		switch r.Kind {
		case consent.KindProfessional:
			out = append(out, area{Kind: r.Kind, Href: "/work", Label: "Your work at " + r.Organisation.Name,
				Hint: "The young people you work with, and your requests."})
		case consent.KindDPO:
			out = append(out, area{Kind: r.Kind, Href: "/dpo/" + url.PathEscape(r.Organisation.ID) + "/disclosures", Label: "Data protection at " + r.Organisation.Name,
				Hint: "Every disclosure, concerns raised, and the log's checks.", orgID: r.Organisation.ID})
		}
	}
	return out
}

// pageHome is "/" for someone signed in: the one area they use, or a choice.
func (s *Server) pageHome(c echo.Context) error {
	me, err := s.svc.Me(c.Request().Context(), personID(c))
	if err != nil {
		return err
	}
	as := s.areas(me)
	if len(as) == 1 {
		switch a := as[0]; a.Kind {
		case consent.KindYoungPerson, consent.KindFamily:
			return s.ypHome(c, a.ypID)
		case consent.KindProfessional:
			return s.workHome(c)
		case consent.KindDPO:
			return s.dpoDisclosures(c, a.orgID)
		}
	}
	return s.show(c, http.StatusOK, "choose", s.view(c, "Home", as))
}
