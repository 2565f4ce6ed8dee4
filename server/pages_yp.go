package server

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
	"sayso/frontend"
)

// ypCtx is whose pages these are and who is looking: the young person
// themselves, or a family member acting for them.
type ypCtx struct {
	Me     consent.Me
	YP     consent.Person
	Self   bool
	Decide bool // the viewer may change sharing and answer requests
	First  string
	Base   string // "/yp/ID"
	// Words that change with who is looking: "you" or "Leo", "your" or
	// "Leo's", and the capitalised forms.
	You, Your, YouCap, YourCap string
	// DecidedBy names who decides, when the viewer cannot: "your mum".
	DecidedBy string
	// Limited is a family member seeing only what the young person chose.
	Limited     bool
	LimitedNote string
}

// loadYP works out who may see ypID's pages: the young person, or someone
// who may act for them. Anyone else gets ErrNotFound (a 404).
func (s *Server) loadYP(c echo.Context, ypID string) (ypCtx, error) {
	ctx := c.Request().Context()
	me, err := s.svc.Me(ctx, personID(c))
	if err != nil {
		return ypCtx{}, err
	}
	y := ypCtx{Me: me, Base: "/yp/" + url.PathEscape(ypID)}
	switch {
	case me.Person.ID == ypID && me.Person.IsYoungPerson():
		y.YP, y.Self = me.Person, true
		y.Decide = slices.ContainsFunc(me.ActsFor, func(a consent.ActsFor) bool { return a.YoungPerson.ID == ypID })
	default:
		i := slices.IndexFunc(me.ActsFor, func(a consent.ActsFor) bool { return a.YoungPerson.ID == ypID && a.Relationship != "self" })
		j := slices.IndexFunc(me.Sees, func(v consent.FamilyView) bool { return v.YoungPerson.ID == ypID })
		switch {
		case i >= 0:
			y.YP, y.Decide = me.ActsFor[i].YoungPerson, true
		case j >= 0:
			y.YP, y.Decide, y.Limited = me.Sees[j].YoungPerson, me.Sees[j].Act, true
		default:
			return ypCtx{}, consent.ErrNotFound
		}
	}
	y.First = firstName(y.YP.Name)
	if y.Self {
		y.You, y.Your, y.YouCap, y.YourCap = "you", "your", "You", "Your"
	} else {
		y.You, y.Your = y.First, possessive(y.First)
		y.YouCap, y.YourCap = y.You, y.Your
	}
	if y.Limited {
		y.LimitedNote = y.First + " decides for themselves, and chose what you can see here. Things " + y.First + " keeps private are not shown."
		if !y.Decide {
			y.LimitedNote += " You can't change anything."
		}
	}
	if !y.Decide && !y.Limited {
		fam, err := s.svc.Family(ctx, personID(c), ypID)
		if err != nil {
			return ypCtx{}, err
		}
		var who []string
		for _, f := range fam {
			if f.ActsNow {
				who = append(who, "your "+f.Link.Relationship)
			}
		}
		y.DecidedBy = strings.Join(who, " and ")
		if y.DecidedBy == "" {
			y.DecidedBy = "someone who looks after you"
		}
	}
	return y, nil
}

// words puts the viewer's words into a sentence written to the young
// person: "your address" becomes "Leo's address" for his mum.
func (y ypCtx) words(s string) string {
	if y.Self {
		return s
	}
	return youWords.ReplaceAllStringFunc(s, func(w string) string {
		switch w {
		case "your":
			return y.Your
		case "Your":
			return y.YourCap
		case "Yours", "yours":
			return y.Your
		case "You":
			return y.YouCap
		}
		return y.You
	})
}

var youWords = regexp.MustCompile(`\b([Yy]ours?|[Yy]ou)\b`)

func (y ypCtx) category(cat consent.Catalogue, id string) string {
	if c, ok := cat.Category(id); ok {
		return y.words(c.Name)
	}
	return id
}

func (y ypCtx) purpose(cat consent.Catalogue, id string) string {
	if p, ok := cat.Purpose(id); ok {
		return y.words(p.Sentence)
	}
	return id
}

// ypView is a page in a young person's area: their navigation, and the
// banner when a family member is acting.
func (s *Server) ypView(c echo.Context, y ypCtx, current, title string, data any) frontend.Page {
	p := s.view(c, title, data)
	about := "me"
	if !y.Self {
		about = y.First
	}
	items := []struct{ path, label string }{
		{"", "Home"},
		{"/story", "My story"},
		{"/sharing", "Who can see what"},
		{"/requests", "Requests"},
		{"/looked", "Who has looked"},
		{"/holders", "Who knows about " + about},
		{"/family", "Who can act for " + about},
	}
	for _, it := range items {
		if it.path == "/story" && !y.Self {
			continue // the story is the young person's own
		}
		p.Nav = append(p.Nav, frontend.NavItem{Href: y.Base + it.path, Label: it.label, Current: it.path == current})
	}
	if !y.Self {
		p.ActingFor = y.YP.Name
		if n := len(y.Me.ActsFor); n > 1 || y.Me.Person.IsYoungPerson() {
			p.SwitchHref = "/"
		}
	}
	return p
}

// Home: what's new.

type homeData struct {
	Y        ypCtx
	Handover []handoverCard // people who left, with their notes: shown first
	Waiting  []requestCard
	Looked   []consent.FeedItem
	EndSoon  []grantCard
	Family   []string // what family members did lately
	Nothing  bool
	Children []area
}

func (s *Server) pageYPHome(c echo.Context) error { return s.ypHome(c, c.Param("ypId")) }

func (s *Server) ypHome(c echo.Context, ypID string) error {
	ctx := c.Request().Context()
	y, err := s.loadYP(c, ypID)
	if err != nil {
		return err
	}
	d := homeData{Y: y}
	if d.Handover, err = s.pendingHandovers(c, y); err != nil {
		return err
	}
	reqs, err := s.svc.Requests(ctx, personID(c), ypID)
	if err != nil {
		return err
	}
	names := s.names(c)
	cat := s.svc.Catalogue()
	for _, r := range reqs {
		if r.Status == consent.RequestWaiting {
			d.Waiting = append(d.Waiting, s.requestCard(y, names, cat, r))
		}
	}
	if d.Looked, err = s.svc.Feed(ctx, personID(c), ypID, -1, 3); err != nil {
		return err
	}
	grants, err := s.svc.Grants(ctx, personID(c), ypID)
	if err != nil {
		return err
	}
	now := s.now()
	for _, g := range grants {
		if g.ActiveAt(now) && !g.Statutory && g.Until.Sub(now) < 31*24*time.Hour {
			d.EndSoon = append(d.EndSoon, s.grantCard(y, names, cat, g))
		}
	}
	// What family did in the last 30 days, told to the young person.
	if y.Self {
		acts, err := s.svc.FamilyActions(ctx, personID(c), ypID)
		if err != nil {
			return err
		}
		for _, a := range acts {
			if now.Sub(a.At) < 30*24*time.Hour {
				d.Family = append(d.Family, a.Sentence)
			}
		}
	}
	d.Nothing = len(d.Handover) == 0 && len(d.Waiting) == 0 && len(d.Looked) == 0 && len(d.EndSoon) == 0 && len(d.Family) == 0
	if y.Self {
		for _, a := range s.areas(y.Me) {
			if a.Kind != consent.KindYoungPerson {
				d.Children = append(d.Children, a)
			}
		}
	}
	return s.show(c, http.StatusOK, "yp-home", s.ypView(c, y, "", "What's new", d))
}

// familyWords is "Grace Williams (your mum)" for someone in the young
// person's family, or their name.
func (s *Server) familyWords(c echo.Context, y ypCtx, personID string) string {
	if personID == y.YP.ID {
		if y.Self {
			return "You"
		}
		return y.YP.Name
	}
	if personID == y.Me.Person.ID && !y.Self {
		return "You"
	}
	fam, err := s.svc.Family(c.Request().Context(), y.Me.Person.ID, y.YP.ID)
	if err == nil {
		for _, f := range fam {
			if f.Person.ID == personID {
				return f.Person.Name + " (" + y.Your + " " + f.Link.Relationship + ")"
			}
		}
	}
	if p, err := s.svc.Person(c.Request().Context(), personID); err == nil {
		return p.Name
	}
	return "Someone"
}

// Who knows about me.

type holderGroup struct {
	Org   consent.Organisation
	Kind  string
	Items []holdingItem
	Who   []string // people there who can see something now
}

type holdingItem struct {
	What, Since, Where string
}

func (s *Server) pageYPHolders(c echo.Context) error {
	ctx := c.Request().Context()
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	hs, err := s.svc.Holdings(ctx, personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	grants, err := s.svc.Grants(ctx, personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	cat := s.svc.Catalogue()
	names := s.names(c)
	var groups []*holderGroup
	byOrg := map[string]*holderGroup{}
	for _, h := range hs {
		g, ok := byOrg[h.OrganisationID]
		if !ok {
			org, err := s.svc.Organisation(ctx, h.OrganisationID)
			if err != nil {
				return err
			}
			g = &holderGroup{Org: org, Kind: orgKindWords[org.Kind]}
			byOrg[h.OrganisationID] = g
			groups = append(groups, g)
		}
		g.Items = append(g.Items, holdingItem{What: upperFirst(y.category(cat, h.Category)), Since: frontend.Date(h.Since), Where: h.System})
	}
	now := s.now()
	for _, gr := range grants {
		if !gr.ActiveAt(now) {
			continue
		}
		w := names.worker(gr.ProfessionalID)
		if g, ok := byOrg[w.Organisation.ID]; ok && !slices.Contains(g.Who, w.Person.Name) {
			g.Who = append(g.Who, w.Person.Name)
		}
	}
	return s.show(c, http.StatusOK, "yp-holders", s.ypView(c, y, "/holders", "Who knows about "+map[bool]string{true: "me", false: y.First}[y.Self], struct {
		Y      ypCtx
		Groups []*holderGroup
	}{y, groups}))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Who can see what.

type grantCard struct {
	ID, Who, What, Thing, Why, Reason, Until, By, Ended string
	Active, EndsSoon                                    bool
	Statutory                                           bool // not the young person's to stop or change
}

func (s *Server) grantCard(y ypCtx, names *nameCache, cat consent.Catalogue, g consent.Grant) grantCard {
	now := s.now()
	card := grantCard{ID: g.ID, Who: workerWords(names.worker(g.ProfessionalID)), What: upperFirst(y.category(cat, g.Category)),
		Thing: y.category(cat, g.Category), Reason: y.purpose(cat, g.Purpose), Why: upperFirst(y.purpose(cat, g.Purpose)), Until: frontend.Date(g.Until), Active: g.ActiveAt(now)}
	card.EndsSoon = card.Active && g.Until.Sub(now) < 31*24*time.Hour
	if g.Statutory {
		card.Statutory = true
		card.By = "Nobody asked " + y.You + " first: the law says they must check. It ends by itself."
	}
	switch {
	case !g.StoppedAt.IsZero():
		card.Ended = "Stopped on " + frontend.Date(g.StoppedAt)
	case !card.Active:
		card.Ended = "Ended on " + frontend.Date(g.Until)
	}
	return card
}

type sharingData struct {
	Y      ypCtx
	Active []grantCard
	Ended  []grantCard
}

func (s *Server) pageYPSharing(c echo.Context) error {
	ctx := c.Request().Context()
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	grants, err := s.svc.Grants(ctx, personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	d := sharingData{Y: y}
	names, cat := s.names(c), s.svc.Catalogue()
	for _, g := range grants {
		card := s.grantCard(y, names, cat, g)
		if g.GrantedBy != "" && g.GrantedBy != personID(c) && !g.Statutory {
			card.By = s.familyWords(c, y, g.GrantedBy) + " shared this on " + frontend.Date(g.CreatedAt) + "."
		}
		if !g.StoppedAt.IsZero() && g.StoppedBy != "" && g.StoppedBy != personID(c) {
			card.Ended += " by " + s.familyWords(c, y, g.StoppedBy)
		}
		if card.Active {
			d.Active = append(d.Active, card)
		} else {
			d.Ended = append(d.Ended, card)
		}
	}
	return s.show(c, http.StatusOK, "yp-sharing", s.ypView(c, y, "/sharing", "Who can see what", d))
}

// grantFor finds one of the young person's grants for a page.
func (s *Server) grantFor(c echo.Context, y ypCtx, grantID string) (consent.Grant, error) {
	grants, err := s.svc.Grants(c.Request().Context(), personID(c), y.YP.ID)
	if err != nil {
		return consent.Grant{}, err
	}
	return find(grants, func(g consent.Grant) bool { return g.ID == grantID })
}

// find returns the first of xs that matches, or ErrNotFound (a 404).
func find[T any](xs []T, match func(T) bool) (T, error) {
	if i := slices.IndexFunc(xs, match); i >= 0 {
		return xs[i], nil
	}
	var zero T
	return zero, consent.ErrNotFound
}

// decidingYP is loadYP for pages that change something: the viewer must
// be the one who decides.
func (s *Server) decidingYP(c echo.Context) (ypCtx, error) {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err == nil && !y.Decide {
		err = echo.NewHTTPError(http.StatusForbidden, "someone else decides for this young person for now")
	}
	return y, err
}

// Stop sharing: a confirmation page that says exactly what stops.

func (s *Server) pageYPStop(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	g, err := s.grantFor(c, y, c.Param("grantId"))
	if err != nil {
		return err
	}
	if !g.ActiveAt(s.now()) {
		s.setFlash(c, "This sharing has already ended.")
		return c.Redirect(http.StatusSeeOther, y.Base+"/sharing")
	}
	card := s.grantCard(y, s.names(c), s.svc.Catalogue(), g)
	w := s.names(c).worker(g.ProfessionalID)
	p := s.ypView(c, y, "/sharing", "Stop sharing", struct {
		Y    ypCtx
		Card grantCard
		Name string
	}{y, card, w.Person.Name})
	p.Exit = true
	return s.show(c, http.StatusOK, "yp-stop", p)
}

func (s *Server) pageYPStopPost(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	g, _, err := s.svc.StopGrant(c.Request().Context(), personID(c), y.YP.ID, c.Param("grantId"))
	if errors.Is(err, consent.ErrConflict) {
		s.setFlash(c, "This sharing had already stopped.")
		return c.Redirect(http.StatusSeeOther, y.Base+"/sharing")
	}
	if err != nil {
		return err
	}
	w := s.names(c).worker(g.ProfessionalID)
	s.setFlash(c, "You stopped sharing "+y.category(s.svc.Catalogue(), g.Category)+" with "+w.Person.Name+". They can't see it any more.")
	return c.Redirect(http.StatusSeeOther, y.Base+"/sharing")
}

// Change the end date.

// lengthChoices are the ways to say how long sharing lasts.
func lengthChoices(y ypCtx) []choice {
	return []choice{
		{Value: "1m", Label: "1 month"},
		{Value: "3m", Label: "3 months"},
		{Value: "6m", Label: "6 months"},
		{Value: "1y", Label: "1 year"},
		{Value: "date", Label: "Until a date " + map[bool]string{true: "I choose", false: "you choose"}[y.Self], Reveal: true},
	}
}

type dateInput struct {
	Day, Month, Year string
	Error            string
}

// untilFrom turns a length answer into a date. It returns the field error
// (by field id) when the answer is missing or not a real date.
func (s *Server) untilFrom(length string, d dateInput) (time.Time, *frontend.FieldError) {
	now := s.now()
	switch length {
	case "1m":
		return now.AddDate(0, 1, 0), nil
	case "3m":
		return now.AddDate(0, 3, 0), nil
	case "6m":
		return now.AddDate(0, 6, 0), nil
	case "1y":
		return now.AddDate(1, 0, 0), nil
	case "date":
		day, e1 := strconv.Atoi(strings.TrimSpace(d.Day))
		month, e2 := strconv.Atoi(strings.TrimSpace(d.Month))
		year, e3 := strconv.Atoi(strings.TrimSpace(d.Year))
		if e1 != nil || e2 != nil || e3 != nil {
			return time.Time{}, &frontend.FieldError{Field: "until-day", Message: "Enter a real date, for example 27 3 2027"}
		}
		t := time.Date(year, time.Month(month), day, 23, 59, 0, 0, frontendLondon())
		if t.Day() != day || int(t.Month()) != month || t.Year() != year {
			return time.Time{}, &frontend.FieldError{Field: "until-day", Message: "Enter a real date, for example 27 3 2027"}
		}
		if !t.After(now) {
			return time.Time{}, &frontend.FieldError{Field: "until-day", Message: "The date must be in the future"}
		}
		if t.Sub(now) > consent.MaxGrantLength {
			return time.Time{}, &frontend.FieldError{Field: "until-day", Message: "The date can be at most 2 years from today"}
		}
		return t, nil
	}
	return time.Time{}, &frontend.FieldError{Field: "length", Message: "Choose how long to share it for"}
}

func frontendLondon() *time.Location {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return loc
	}
	return time.UTC
}

type endDateData struct {
	Y      ypCtx
	Card   grantCard
	Length question
	Date   dateInput
}

func (s *Server) endDatePage(c echo.Context, status int, y ypCtx, g consent.Grant, length string, date dateInput, errs []frontend.FieldError) error {
	q := newQuestion("length", "How long should it last from today?", []string{length}, lengthChoices(y)...)
	p := s.ypView(c, y, "/sharing", "Change when sharing ends", nil)
	p.Errors = errs
	q.Error = p.ErrorFor("length")
	date.Error = p.ErrorFor("until-day")
	p.Data = endDateData{Y: y, Card: s.grantCard(y, s.names(c), s.svc.Catalogue(), g), Length: q, Date: date}
	return s.show(c, status, "yp-end-date", p)
}

func (s *Server) pageYPEndDate(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	g, err := s.grantFor(c, y, c.Param("grantId"))
	if err != nil {
		return err
	}
	if !g.ActiveAt(s.now()) {
		return consent.ErrNotFound
	}
	return s.endDatePage(c, http.StatusOK, y, g, "", dateInput{}, nil)
}

func (s *Server) pageYPEndDatePost(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	g, err := s.grantFor(c, y, c.Param("grantId"))
	if err != nil {
		return err
	}
	length := c.FormValue("length")
	date := dateInput{Day: c.FormValue("until-day"), Month: c.FormValue("until-month"), Year: c.FormValue("until-year")}
	until, fe := s.untilFrom(length, date)
	if fe != nil {
		return s.endDatePage(c, http.StatusBadRequest, y, g, length, date, []frontend.FieldError{*fe})
	}
	g, _, err = s.svc.ChangeGrantEnd(c.Request().Context(), personID(c), y.YP.ID, g.ID, until)
	if errs, err := formErrors(err, map[string]frontend.FieldError{"until": {Field: "until-day", Message: "Choose a date in the next 2 years"}}); err != nil {
		return err
	} else if errs != nil {
		return s.endDatePage(c, http.StatusBadRequest, y, g, length, date, errs)
	}
	w := s.names(c).worker(g.ProfessionalID)
	s.setFlash(c, w.Person.Name+" can now see "+y.category(s.svc.Catalogue(), g.Category)+" until "+frontend.Date(g.Until)+".")
	return c.Redirect(http.StatusSeeOther, y.Base+"/sharing")
}

// Who can act for me.

type familyCard struct {
	ID, Name, First, Relationship, CanDo string
	ActsNow                              bool
	// Sees is what they may see; Rule is the young person's form for it.
	Sees string
	Rule *question
	Act  bool
}

func (s *Server) pageYPFamily(c echo.Context) error {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	fam, err := s.svc.Family(ctx, personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	rules, err := s.svc.FamilySee(ctx, personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	cat := s.svc.Catalogue()
	var choices []choice
	for _, k := range cat.Categories {
		if k.Parent == "" {
			choices = append(choices, choice{Value: k.ID, Label: upperFirst(y.words(k.Name))})
		}
	}
	var cards []familyCard
	for _, f := range fam {
		r := rules[f.Person.ID]
		card := familyCard{ID: f.Person.ID, Name: f.Person.Name, First: firstName(f.Person.Name), Relationship: y.Your + " " + f.Link.Relationship, ActsNow: f.ActsNow, Act: r.Act}
		var sees []string
		for _, id := range r.See {
			sees = append(sees, y.category(cat, id))
		}
		switch {
		case f.ActsNow:
			card.CanDo = "Decides who can see " + y.Your + " information for now, until " + y.You + " can decide for " + map[bool]string{true: "yourself", false: "themselves"}[y.Self] + ". Everything they do shows up here for " + y.You + " to see."
		case y.Self && y.Decide && r.SetBy != "" && len(r.See) > 0:
			card.CanDo = "You decide for yourself. You have chosen what they can see."
			if r.Act {
				card.CanDo += " They can also answer requests and change sharing for you, for those things only."
			}
		default:
			card.CanDo = y.YouCap + " decide for " + map[bool]string{true: "yourself", false: "themselves"}[y.Self] + " now, so they can't see " + y.Your + " information on Sayso unless " + y.You + " choose" + map[bool]string{true: "", false: "s"}[y.Self] + " what they can see."
		}
		if f.ActsNow || (y.Self && y.Decide && r.SetBy != "" && len(r.See) > 0) {
			card.Sees = "They can see: " + strings.Join(sees, ", ") + "."
		}
		if y.Self && y.Decide {
			// Without a rule of the young person's, they see nothing now.
			ticked := r.See
			if r.SetBy == "" {
				ticked, card.Act = nil, false
			}
			q := newQuestion("see-"+f.Person.ID, "What can "+card.First+" see?", ticked, choices...)
			for i := range q.Choices {
				q.Choices[i].ID = "see-" + f.Person.ID + "-" + q.Choices[i].Value
			}
			q.Choices[0].ID = "see-" + f.Person.ID
			q.Checkboxes, q.Small = true, false
			q.Hint = "Social care information and your story are private from family unless you tick them."
			card.Rule = &q
		}
		cards = append(cards, card)
	}
	var actions []consent.FamilyAction
	if y.Self {
		if actions, err = s.svc.FamilyActions(ctx, personID(c), y.YP.ID); err != nil {
			return err
		}
	}
	title := "Who can act for me"
	if !y.Self {
		title = "Who can act for " + y.First
	}
	return s.show(c, http.StatusOK, "yp-family", s.ypView(c, y, "/family", title, struct {
		Y       ypCtx
		Cards   []familyCard
		Actions []consent.FamilyAction
	}{y, cards, actions}))
}

// Who has looked.

type lookedItem struct {
	Index    int64
	Sentence string
	Concerns []consent.Concern
	Raised   []concernWords
}

type concernWords struct {
	Raised, Message, Answer, AnsweredBy, Due string
	Overdue                                  bool
}

func (s *Server) pageYPLooked(c echo.Context) error {
	ctx := c.Request().Context()
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	feed, err := s.svc.Feed(ctx, personID(c), y.YP.ID, -1, 100)
	if err != nil {
		return err
	}
	concerns, err := s.svc.ConcernsAbout(ctx, personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	names := s.names(c)
	byIndex := map[int64][]concernWords{}
	for _, k := range concerns {
		w := concernWords{Raised: s.familyWords(c, y, k.RaisedBy) + " asked why on " + frontend.Date(k.CreatedAt) + ".", Message: k.Message, Answer: k.Answer,
			Due: frontend.Date(k.DueBy()), Overdue: k.Overdue(s.now())}
		if k.AnsweredBy != "" {
			w.AnsweredBy = names.person(k.AnsweredBy).Name + " answered on " + frontend.Date(k.AnsweredAt) + ":"
		}
		byIndex[k.LogIndex] = append(byIndex[k.LogIndex], w)
	}
	var items []lookedItem
	for _, f := range feed {
		items = append(items, lookedItem{Index: f.Index, Sentence: f.Sentence, Raised: byIndex[f.Index]})
	}
	p := s.ypView(c, y, "/looked", "Who has looked", struct {
		Y     ypCtx
		Items []lookedItem
	}{y, items})
	p.Exit = true
	return s.show(c, http.StatusOK, "yp-looked", p)
}

// "This doesn't look right".

func (s *Server) feedItem(c echo.Context, y ypCtx, index int64) (consent.FeedItem, error) {
	feed, err := s.svc.Feed(c.Request().Context(), personID(c), y.YP.ID, index+1, 1)
	if err != nil {
		return consent.FeedItem{}, err
	}
	if len(feed) != 1 || feed[0].Index != index {
		return consent.FeedItem{}, consent.ErrNotFound
	}
	return feed[0], nil
}

type concernData struct {
	Y        ypCtx
	Sentence string
	Org      string
	Message  string
}

func (s *Server) concernPage(c echo.Context, status int, y ypCtx, item consent.FeedItem, message string, errs []frontend.FieldError) error {
	org := "the organisation"
	if o, err := s.svc.Organisation(c.Request().Context(), item.Disclosure.OrganisationID); err == nil {
		org = o.Name
	}
	p := s.ypView(c, y, "/looked", "Ask why they looked", concernData{Y: y, Sentence: item.Sentence, Org: org, Message: message})
	p.Exit, p.Errors = true, errs
	return s.show(c, status, "yp-concern", p)
}

// lookedItem is the young person and the entry of their feed at :index.
func (s *Server) lookedItem(c echo.Context) (ypCtx, consent.FeedItem, error) {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return y, consent.FeedItem{}, err
	}
	n, err := strconv.ParseInt(c.Param("index"), 10, 64)
	if err != nil || n < 0 {
		return y, consent.FeedItem{}, consent.ErrNotFound
	}
	item, err := s.feedItem(c, y, n)
	return y, item, err
}

func (s *Server) pageYPConcern(c echo.Context) error {
	y, item, err := s.lookedItem(c)
	if err != nil {
		return err
	}
	return s.concernPage(c, http.StatusOK, y, item, "", nil)
}

func (s *Server) pageYPConcernPost(c echo.Context) error {
	y, item, err := s.lookedItem(c)
	if err != nil {
		return err
	}
	message := c.FormValue("message")
	q, err := s.svc.RaiseConcern(c.Request().Context(), personID(c), y.YP.ID, item.Index, message)
	if errs, err := formErrors(err, map[string]frontend.FieldError{"message": {Field: "message", Message: "Your message must be 1,000 characters or fewer"}}); err != nil {
		return err
	} else if errs != nil {
		return s.concernPage(c, http.StatusBadRequest, y, item, message, errs)
	}
	org := "the organisation"
	if o, err := s.svc.Organisation(c.Request().Context(), item.Disclosure.OrganisationID); err == nil {
		org = o.Name
	}
	s.setFlash(c, "Thank you. We've sent your question to the person at "+org+" who checks how information is used. They should answer by "+frontend.Date(q.DueBy())+", and their answer will appear here.")
	return c.Redirect(http.StatusSeeOther, y.Base+"/looked")
}
