package server

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
	"sayso/frontend"
)

// Sharing something new: one question per page (who, what, why, how long),
// then check answers, then a button that says exactly what happens. What
// has been answered so far travels in a sealed cookie, so the URLs say
// nothing about it and the back button works.

var shareSteps = []string{"who", "what", "why", "how-long"}

func (s *Server) pageYPShareStart(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	s.clearDraft(c, shareDraft)
	return c.Redirect(http.StatusSeeOther, y.Base+"/share/who")
}

// missingStep is the first step the draft has no answer for, or "".
func missingStep(d draft) string {
	switch {
	case d.Professional == "":
		return "who"
	case d.Category == "":
		return "what"
	case d.Purpose == "":
		return "why"
	case d.Length == "":
		return "how-long"
	}
	return ""
}

type stepData struct {
	Y        ypCtx
	Step     string
	Question question
	Date     *dateInput
	Back     string
	Check    bool // came from the check page
	None     string
	Button   string
}

func (s *Server) shareStepPage(c echo.Context, status int, y ypCtx, step string, d draft, errs []frontend.FieldError) error {
	ctx := c.Request().Context()
	cat := s.svc.Catalogue()
	names := s.names(c)
	data := stepData{Y: y, Step: step, Check: c.QueryParam("change") == "1" || c.FormValue("change") == "1", Button: "Continue"}
	prof := ""
	if d.Professional != "" {
		prof = names.worker(d.Professional).Person.Name
	}
	switch step {
	case "who":
		workers, err := s.svc.WorkingWith(ctx, personID(c), y.YP.ID)
		if err != nil {
			return err
		}
		var opts []choice
		for _, w := range workers {
			opts = append(opts, choice{Value: w.Person.ID, Label: w.Person.Name, Hint: upperFirst(roleName(w.Role)) + " at " + w.Organisation.Name})
		}
		data.Question = newQuestion("professional", "Who do you want to share something with?", []string{d.Professional}, opts...)
		data.Question.Hint = "These people already work with " + y.You + "."
		if len(opts) == 0 {
			data.None = "Nobody who works with " + y.You + " uses Sayso yet."
		}
		data.Back = y.Base + "/sharing"
	case "what":
		visible, err := s.svc.VisibleCategories(ctx, personID(c), y.YP.ID)
		if err != nil {
			return err
		}
		var opts []choice
		for _, k := range visible {
			opts = append(opts, choice{Value: k.ID, Label: upperFirst(y.words(k.Name)), Hint: y.words(k.About)})
		}
		data.Question = newQuestion("category", "What do you want "+prof+" to see?", []string{d.Category}, opts...)
		data.Question.Hint = "Choose one thing. You can share something else afterwards."
		data.Back = y.Base + "/share/who"
	case "why":
		var opts []choice
		for _, p := range cat.Purposes {
			if !p.Statutory {
				opts = append(opts, choice{Value: p.ID, Label: upperFirst(y.words(p.Sentence))})
			}
		}
		data.Question = newQuestion("purpose", "Why can "+prof+" see it?", []string{d.Purpose}, opts...)
		data.Question.Hint = prof + " can only look at it for this reason."
		data.Back = y.Base + "/share/what"
	case "how-long":
		data.Question = newQuestion("length", "How long can "+prof+" see it for?", []string{d.Length}, lengthChoices(y)...)
		data.Question.Hint = y.YouCap + " can stop sharing at any time."
		data.Date = &dateInput{Day: d.Day, Month: d.Month, Year: d.Year}
		data.Back = y.Base + "/share/why"
	default:
		return consent.ErrNotFound
	}
	if data.Check {
		data.Back = y.Base + "/share/check"
	}
	data.Question.Heading = true
	p := s.ypView(c, y, "/sharing", "Share something", nil)
	p.Errors = errs
	data.Question.Error = p.ErrorFor(data.Question.Name)
	if data.Date != nil {
		data.Date.Error = p.ErrorFor("until-day")
	}
	p.Data = data
	return s.show(c, status, "yp-share-step", p)
}

func (s *Server) pageYPShareStep(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	step := c.Param("step")
	if !slices.Contains(shareSteps, step) {
		return consent.ErrNotFound
	}
	d := s.loadDraft(c, shareDraft, y.YP.ID)
	if miss := missingStep(d); miss != "" && slices.Index(shareSteps, miss) < slices.Index(shareSteps, step) {
		return c.Redirect(http.StatusSeeOther, y.Base+"/share/"+miss)
	}
	return s.shareStepPage(c, http.StatusOK, y, step, d, nil)
}

func (s *Server) pageYPShareStepPost(c echo.Context) error {
	ctx := c.Request().Context()
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	step := c.Param("step")
	if !slices.Contains(shareSteps, step) {
		return consent.ErrNotFound
	}
	d := s.loadDraft(c, shareDraft, y.YP.ID)
	cat := s.svc.Catalogue()
	var fe *frontend.FieldError
	switch step {
	case "who":
		v := c.FormValue("professional")
		workers, err := s.svc.WorkingWith(ctx, personID(c), y.YP.ID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(workers, func(w consent.Worker) bool { return w.Person.ID == v }) {
			fe = &frontend.FieldError{Field: "professional", Message: "Choose who to share with"}
		} else {
			d.Professional = v
		}
	case "what":
		v := c.FormValue("category")
		if _, ok := cat.Category(v); !ok {
			fe = &frontend.FieldError{Field: "category", Message: "Choose what to share"}
		} else {
			d.Category = v
		}
	case "why":
		v := c.FormValue("purpose")
		if p, ok := cat.Purpose(v); !ok || p.Statutory {
			fe = &frontend.FieldError{Field: "purpose", Message: "Choose why they can see it"}
		} else {
			d.Purpose = v
		}
	case "how-long":
		d.Length = c.FormValue("length")
		d.Day, d.Month, d.Year = c.FormValue("until-day"), c.FormValue("until-month"), c.FormValue("until-year")
		if _, e := s.untilFrom(d.Length, dateInput{Day: d.Day, Month: d.Month, Year: d.Year}); e != nil {
			fe = e
		}
	}
	if fe != nil {
		return s.shareStepPage(c, http.StatusBadRequest, y, step, d, []frontend.FieldError{*fe})
	}
	if err := s.saveDraft(c, shareDraft, d); err != nil {
		return err
	}
	next := "check"
	if c.FormValue("change") != "1" {
		if i := slices.Index(shareSteps, step); i+1 < len(shareSteps) {
			next = shareSteps[i+1]
		}
	}
	if miss := missingStep(d); miss != "" && (next == "check" || slices.Index(shareSteps, miss) < slices.Index(shareSteps, next)) {
		next = miss
	}
	return c.Redirect(http.StatusSeeOther, y.Base+"/share/"+next)
}

// finishedDraft returns the share being made and its end date, or the
// step to go back to when an answer is missing or no longer valid.
func (s *Server) finishedDraft(c echo.Context, y ypCtx) (draft, time.Time, string) {
	d := s.loadDraft(c, shareDraft, y.YP.ID)
	if miss := missingStep(d); miss != "" {
		return d, time.Time{}, y.Base + "/share/" + miss
	}
	until, fe := s.untilFrom(d.Length, dateInput{Day: d.Day, Month: d.Month, Year: d.Year})
	if fe != nil {
		return d, time.Time{}, y.Base + "/share/how-long"
	}
	return d, until, ""
}

type shareCheckData struct {
	Y                    ypCtx
	Who, What, Why, When string
	Button               string
}

func (s *Server) pageYPShareCheck(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	d, until, back := s.finishedDraft(c, y)
	if back != "" {
		return c.Redirect(http.StatusSeeOther, back)
	}
	cat := s.svc.Catalogue()
	w := s.names(c).worker(d.Professional)
	what := y.category(cat, d.Category)
	data := shareCheckData{Y: y, Who: workerWords(w), What: upperFirst(what), Why: upperFirst(y.purpose(cat, d.Purpose)),
		When: frontend.Date(until), Button: "Share " + what + " with " + w.Person.Name}
	return s.show(c, http.StatusOK, "yp-share-check", s.ypView(c, y, "/sharing", "Check before you share", data))
}

func (s *Server) pageYPShareCheckPost(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	d, until, back := s.finishedDraft(c, y)
	if back != "" {
		return c.Redirect(http.StatusSeeOther, back)
	}
	g, _, err := s.svc.Grant(c.Request().Context(), personID(c), y.YP.ID, consent.NewGrant{
		ProfessionalID: d.Professional, Category: d.Category, Purpose: d.Purpose, Until: until,
	})
	var inv *consent.InvalidError
	if errors.As(err, &inv) {
		// Something changed since the answers were given (the person left,
		// the date passed): ask again from the start.
		s.setFlash(c, "Something changed while you were choosing. Please check your answers again.")
		return c.Redirect(http.StatusSeeOther, y.Base+"/share/who")
	}
	if err != nil {
		return err
	}
	s.clearDraft(c, shareDraft)
	return c.Redirect(http.StatusSeeOther, y.Base+"/shared/"+url.PathEscape(g.ID))
}

func (s *Server) pageYPShared(c echo.Context) error {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	g, err := s.grantFor(c, y, c.Param("grantId"))
	if err != nil {
		return err
	}
	names := s.names(c)
	card := s.grantCard(y, names, s.svc.Catalogue(), g)
	return s.show(c, http.StatusOK, "yp-shared", s.ypView(c, y, "/sharing", "You are sharing", struct {
		Y    ypCtx
		Card grantCard
		Name string
	}{y, card, names.worker(g.ProfessionalID).Person.Name}))
}

// Requests.

type requestCard struct {
	ID, Who, Name, Status, Asked, AnswerBy, For, ForLower, Reason, How string
	What                                                               []string
	Approved, Refused                                                  []string
	Waiting                                                            bool
	Message, DecidedBy                                                 string
}

func durationWords(days int) string {
	switch {
	case days >= 360 && days%365 < 10:
		n := int(math.Round(float64(days) / 365))
		if n == 1 {
			return "1 year"
		}
		return strconv.Itoa(n) + " years"
	case days >= 28:
		n := int(math.Round(float64(days) / 30.44))
		if n == 1 {
			return "1 month"
		}
		return strconv.Itoa(n) + " months"
	case days == 1:
		return "1 day"
	}
	return strconv.Itoa(days) + " days"
}

func (s *Server) requestCard(y ypCtx, names *nameCache, cat consent.Catalogue, r consent.AccessRequest) requestCard {
	w := names.worker(r.ProfessionalID)
	card := requestCard{ID: r.ID, Who: workerWords(w), Name: w.Person.Name, Asked: frontend.Date(r.CreatedAt), AnswerBy: frontend.Date(r.ExpiresAt),
		Reason: r.Reason, How: durationWords(r.DurationDays), Waiting: r.Status == consent.RequestWaiting, Message: r.Message}
	if p, ok := cat.Purpose(r.Purpose); ok {
		card.For, card.ForLower = upperFirst(y.words(p.Sentence)), y.words(p.Sentence)
	}
	for _, k := range r.Categories {
		card.What = append(card.What, y.category(cat, k))
		if slices.Contains(r.Approved, k) {
			card.Approved = append(card.Approved, y.category(cat, k))
		} else if r.Status != consent.RequestWaiting && r.Status != consent.RequestExpired {
			card.Refused = append(card.Refused, y.category(cat, k))
		}
	}
	who := y.YouCap
	if r.DecidedBy != "" && r.DecidedBy != personID(names.c) {
		if r.DecidedBy == y.YP.ID {
			who = y.YP.Name
		} else {
			who = names.person(r.DecidedBy).Name
		}
	}
	card.DecidedBy = who
	switch r.Status {
	case consent.RequestWaiting:
		card.Status = "Waiting for an answer"
	case consent.RequestApproved:
		card.Status = who + " said yes"
	case consent.RequestPartly:
		card.Status = who + " said yes to some of it"
	case consent.RequestDeclined:
		card.Status = who + " said no"
	case consent.RequestExpired:
		card.Status = "Not answered in time"
	}
	return card
}

func (s *Server) pageYPRequests(c echo.Context) error {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	reqs, err := s.svc.Requests(c.Request().Context(), personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	names, cat := s.names(c), s.svc.Catalogue()
	var waiting, answered []requestCard
	for _, r := range reqs {
		card := s.requestCard(y, names, cat, r)
		if card.Waiting {
			waiting = append(waiting, card)
		} else {
			answered = append(answered, card)
		}
	}
	return s.show(c, http.StatusOK, "yp-requests", s.ypView(c, y, "/requests", "Requests", struct {
		Y                 ypCtx
		Waiting, Answered []requestCard
	}{y, waiting, answered}))
}

func (s *Server) requestFor(c echo.Context, y ypCtx, requestID string) (consent.AccessRequest, error) {
	reqs, err := s.svc.Requests(c.Request().Context(), personID(c), y.YP.ID)
	if err != nil {
		return consent.AccessRequest{}, err
	}
	return find(reqs, func(r consent.AccessRequest) bool { return r.ID == requestID })
}

type answerData struct {
	Y         ypCtx
	Card      requestCard
	Questions []question
	Message   string
}

func (s *Server) requestPage(c echo.Context, status int, y ypCtx, r consent.AccessRequest, d draft, errs []frontend.FieldError) error {
	cat := s.svc.Catalogue()
	names := s.names(c)
	card := s.requestCard(y, names, cat, r)
	data := answerData{Y: y, Card: card, Message: d.Message}
	p := s.ypView(c, y, "/requests", "A request", nil)
	p.Errors, p.Exit = errs, true
	for _, k := range r.Categories {
		q := newQuestion("answer-"+k, "Can "+card.Name+" see "+y.category(cat, k)+"?", []string{d.Answers[k]},
			choice{Value: "yes", Label: "Yes"}, choice{Value: "no", Label: "No"})
		q.Small = true
		q.Error = p.ErrorFor(q.Name)
		data.Questions = append(data.Questions, q)
	}
	p.Data = data
	return s.show(c, status, "yp-request", p)
}

func (s *Server) pageYPRequest(c echo.Context) error {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	r, err := s.requestFor(c, y, c.Param("requestId"))
	if err != nil {
		return err
	}
	d := s.loadDraft(c, answerDraft, y.YP.ID)
	if d.Request != r.ID {
		d = draft{YP: y.YP.ID}
	}
	return s.requestPage(c, http.StatusOK, y, r, d, nil)
}

func (s *Server) pageYPRequestPost(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	r, err := s.requestFor(c, y, c.Param("requestId"))
	if err != nil {
		return err
	}
	if r.Status != consent.RequestWaiting {
		return c.Redirect(http.StatusSeeOther, y.Base+"/requests/"+url.PathEscape(r.ID))
	}
	d := draft{YP: y.YP.ID, Request: r.ID, Answers: map[string]string{}, Message: strings.TrimSpace(c.FormValue("message"))}
	var errs []frontend.FieldError
	cat := s.svc.Catalogue()
	for _, k := range r.Categories {
		v := c.FormValue("answer-" + k)
		if v != "yes" && v != "no" {
			errs = append(errs, frontend.FieldError{Field: "answer-" + k, Message: "Choose yes or no for " + y.category(cat, k)})
			continue
		}
		d.Answers[k] = v
	}
	if len(d.Message) > 1000 {
		errs = append(errs, frontend.FieldError{Field: "message", Message: "Your message must be 1,000 characters or fewer"})
	}
	if len(errs) > 0 {
		return s.requestPage(c, http.StatusBadRequest, y, r, d, errs)
	}
	if err := s.saveDraft(c, answerDraft, d); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, y.Base+"/requests/"+url.PathEscape(r.ID)+"/check")
}

type answerCheckData struct {
	Y       ypCtx
	Card    requestCard
	Rows    []struct{ What, Answer string }
	Message string
	Button  string
}

func (s *Server) pageYPRequestCheck(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	r, err := s.requestFor(c, y, c.Param("requestId"))
	if err != nil {
		return err
	}
	d := s.loadDraft(c, answerDraft, y.YP.ID)
	if r.Status != consent.RequestWaiting || d.Request != r.ID || len(d.Answers) != len(r.Categories) {
		return c.Redirect(http.StatusSeeOther, y.Base+"/requests/"+url.PathEscape(r.ID))
	}
	cat := s.svc.Catalogue()
	card := s.requestCard(y, s.names(c), cat, r)
	data := answerCheckData{Y: y, Card: card, Message: d.Message}
	yes := 0
	for _, k := range r.Categories {
		a := "No, don't share it"
		if d.Answers[k] == "yes" {
			a, yes = "Yes, share it", yes+1
		}
		data.Rows = append(data.Rows, struct{ What, Answer string }{upperFirst(y.category(cat, k)), a})
	}
	switch {
	case yes == 0:
		data.Button = "Say no to " + card.Name
	case yes == len(r.Categories):
		data.Button = "Say yes to " + card.Name
	default:
		data.Button = "Send your answer to " + card.Name
	}
	p := s.ypView(c, y, "/requests", "Check your answer", data)
	p.Exit = true
	return s.show(c, http.StatusOK, "yp-request-check", p)
}

func (s *Server) pageYPRequestCheckPost(c echo.Context) error {
	y, err := s.decidingYP(c)
	if err != nil {
		return err
	}
	requestID := c.Param("requestId")
	d := s.loadDraft(c, answerDraft, y.YP.ID)
	if d.Request != requestID {
		return c.Redirect(http.StatusSeeOther, y.Base+"/requests/"+url.PathEscape(requestID))
	}
	var approve []string
	for k, v := range d.Answers {
		if v == "yes" {
			approve = append(approve, k)
		}
	}
	slices.Sort(approve)
	_, _, err = s.svc.Decide(c.Request().Context(), personID(c), y.YP.ID, requestID, consent.Decision{Approve: approve, Message: d.Message})
	if errors.Is(err, consent.ErrConflict) {
		s.clearDraft(c, answerDraft)
		s.setFlash(c, "This request had already been answered, or it ran out of time.")
		return c.Redirect(http.StatusSeeOther, y.Base+"/requests/"+url.PathEscape(requestID))
	}
	if err != nil {
		return err
	}
	s.clearDraft(c, answerDraft)
	return c.Redirect(http.StatusSeeOther, y.Base+"/requests/"+url.PathEscape(requestID)+"/answered")
}

func (s *Server) pageYPRequestAnswered(c echo.Context) error {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	r, err := s.requestFor(c, y, c.Param("requestId"))
	if err != nil {
		return err
	}
	if r.Status == consent.RequestWaiting {
		return c.Redirect(http.StatusSeeOther, y.Base+"/requests/"+url.PathEscape(r.ID))
	}
	cat := s.svc.Catalogue()
	card := s.requestCard(y, s.names(c), cat, r)
	until := ""
	if !r.DecidedAt.IsZero() {
		until = frontend.Date(r.DecidedAt.AddDate(0, 0, r.DurationDays))
	}
	return s.show(c, http.StatusOK, "yp-request-answered", s.ypView(c, y, "/requests", "Answer sent", struct {
		Y     ypCtx
		Card  requestCard
		Until string
	}{y, card, until}))
}
