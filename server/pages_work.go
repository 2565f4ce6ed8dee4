package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"sayso/consent"
	"sayso/frontend"
)

// A professional's pages: the young people they work with, asking for
// access, reading what is shared (choosing the purpose each time) and
// their requests.

func (s *Server) workView(c echo.Context, current, title string, data any) frontend.Page {
	p := s.view(c, title, data)
	for _, it := range []struct{ path, label string }{{"/work", "Young people"}, {"/work/requests", "Your requests"}} {
		p.Nav = append(p.Nav, frontend.NavItem{Href: it.path, Label: it.label, Current: it.path == current})
	}
	return p
}

// theirs is "Amara's address" for a category name written to the young person.
func theirs(first, name string) string {
	return possessive(first) + " " + strings.TrimPrefix(name, "your ")
}

func categoryLabel(cat consent.Catalogue, id string) string {
	if k, ok := cat.Category(id); ok {
		return upperFirst(strings.TrimPrefix(k.Name, "your "))
	}
	return id
}

func purposeLabel(cat consent.Catalogue, id string) string {
	if p, ok := cat.Purpose(id); ok {
		return p.Name
	}
	return id
}

type ypRow struct {
	ID, Name, Shared string
}

func (s *Server) pageWorkHome(c echo.Context) error { return s.workHome(c) }

func (s *Server) workHome(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.svc.WorkerOf(ctx, personID(c))
	if err != nil {
		return err
	}
	yps, err := s.svc.YoungPeopleFor(ctx, personID(c))
	if err != nil {
		return err
	}
	var rows []ypRow
	for _, yp := range yps {
		_, grants, err := s.svc.YoungPersonForWorker(ctx, personID(c), yp.ID)
		if err != nil {
			return err
		}
		shared := "Nothing shared with you"
		if n := len(grants); n == 1 {
			shared = "1 thing shared with you"
		} else if n > 1 {
			shared = strconv.Itoa(n) + " things shared with you"
		}
		rows = append(rows, ypRow{ID: yp.ID, Name: yp.Name, Shared: shared})
	}
	return s.show(c, http.StatusOK, "work-home", s.workView(c, "/work", "Young people you work with", struct {
		Worker string
		Org    string
		Rows   []ypRow
	}{workerWords(w), w.Organisation.Name, rows}))
}

type sharedRow struct {
	What, Why, Until string
}

func (s *Server) pageWorkYP(c echo.Context) error {
	ctx := c.Request().Context()
	yp, grants, err := s.svc.YoungPersonForWorker(ctx, personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	cat := s.svc.Catalogue()
	first := firstName(yp.Name)
	var shared []sharedRow
	for _, g := range grants {
		k, _ := cat.Category(g.Category)
		row := sharedRow{What: upperFirst(theirs(first, k.Name)), Why: purposeLabel(cat, g.Purpose), Until: frontend.DateTime(g.Until)}
		if g.Statutory {
			row.Why += " (statutory access, no consent)"
		}
		shared = append(shared, row)
	}
	var reqs []proRequestRow
	if rs, err := s.svc.RequestsByMe(ctx, personID(c)); err == nil {
		for _, r := range rs {
			if r.YoungPersonID == yp.ID {
				reqs = append(reqs, s.proRequestRow(c, r))
			}
		}
	} else {
		return err
	}
	duty, err := s.svc.HasStatutoryDuty(ctx, personID(c))
	if err != nil {
		return err
	}
	return s.show(c, http.StatusOK, "work-yp", s.workView(c, "/work", "A young person you work with", struct {
		YP        consent.Person
		Base      string
		Shared    []sharedRow
		Requests  []proRequestRow
		Statutory bool
	}{yp, "/work/yp/" + url.PathEscape(yp.ID), shared, reqs, duty}))
}

// Ask for access.

type askForm struct {
	Categories []string
	Purpose    string
	Reason     string
	Duration   string
}

type askData struct {
	YP         consent.Person
	Base       string
	Categories question
	Purpose    question
	Duration   question
	Reason     string
	ReasonErr  string
}

var durationOptions = []choice{
	{Value: "30", Label: "1 month"},
	{Value: "91", Label: "3 months"},
	{Value: "183", Label: "6 months"},
	{Value: "365", Label: "1 year"},
}

func (s *Server) askPage(c echo.Context, status int, yp consent.Person, f askForm, errs []frontend.FieldError) error {
	cat := s.svc.Catalogue()
	var cats, purposes []choice
	for _, k := range cat.Categories {
		cats = append(cats, choice{Value: k.ID, Label: categoryLabel(cat, k.ID)})
	}
	for _, p := range cat.Purposes {
		if !p.Statutory {
			purposes = append(purposes, choice{Value: p.ID, Label: p.Name, Hint: upperFirst(strings.ReplaceAll(p.Sentence, "your", "their")) + "."})
		}
	}
	p := s.workView(c, "/work", "Ask for access", nil)
	p.Errors = errs
	d := askData{YP: yp, Base: "/work/yp/" + url.PathEscape(yp.ID), Reason: f.Reason, ReasonErr: p.ErrorFor("reason")}
	d.Categories = newQuestion("categories", "What do you need to see?", f.Categories, cats...)
	d.Categories.Checkboxes, d.Categories.Hint, d.Categories.Error = true, "Choose only what you need. "+firstName(yp.Name)+" can say yes to some and no to others.", p.ErrorFor("categories")
	d.Purpose = newQuestion("purpose", "What is it for?", []string{f.Purpose}, purposes...)
	d.Purpose.Error = p.ErrorFor("purpose")
	d.Duration = newQuestion("duration", "How long do you need it for?", []string{f.Duration}, durationOptions...)
	d.Duration.Error = p.ErrorFor("duration")
	p.Data = d
	return s.show(c, status, "work-ask", p)
}

func (s *Server) pageWorkAsk(c echo.Context) error {
	yp, _, err := s.svc.YoungPersonForWorker(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	return s.askPage(c, http.StatusOK, yp, askForm{}, nil)
}

func (s *Server) pageWorkAskPost(c echo.Context) error {
	ctx := c.Request().Context()
	yp, _, err := s.svc.YoungPersonForWorker(ctx, personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return consent.Invalid("body", "not a form")
	}
	f := askForm{Categories: form["categories"], Purpose: form.Get("purpose"), Reason: form.Get("reason"), Duration: form.Get("duration")}
	cat := s.svc.Catalogue()
	var errs []frontend.FieldError
	if len(f.Categories) == 0 || slices.ContainsFunc(f.Categories, func(k string) bool { _, ok := cat.Category(k); return !ok }) {
		errs = append(errs, frontend.FieldError{Field: "categories", Message: "Choose what you need to see"})
	}
	if p, ok := cat.Purpose(f.Purpose); !ok || p.Statutory {
		errs = append(errs, frontend.FieldError{Field: "purpose", Message: "Choose what it is for"})
	}
	if strings.TrimSpace(f.Reason) == "" {
		errs = append(errs, frontend.FieldError{Field: "reason", Message: "Say in your own words why you are asking"})
	} else if len(f.Reason) > 2000 {
		errs = append(errs, frontend.FieldError{Field: "reason", Message: "Your reason must be 2,000 characters or fewer"})
	}
	days, _ := strconv.Atoi(f.Duration)
	if !slices.ContainsFunc(durationOptions, func(o choice) bool { return o.Value == f.Duration }) {
		errs = append(errs, frontend.FieldError{Field: "duration", Message: "Choose how long you need it for"})
	}
	if len(errs) > 0 {
		return s.askPage(c, http.StatusBadRequest, yp, f, errs)
	}
	_, err = s.svc.Ask(ctx, personID(c), yp.ID, consent.NewRequest{Categories: f.Categories, Purpose: f.Purpose, Reason: f.Reason, DurationDays: days})
	if errs, err := formErrors(err, map[string]frontend.FieldError{
		"categories":   {Field: "categories", Message: "Choose each kind of information once"},
		"purpose":      {Field: "purpose", Message: "Choose what it is for"},
		"reason":       {Field: "reason", Message: "Say in your own words why you are asking"},
		"durationDays": {Field: "duration", Message: "Choose how long you need it for"},
	}); err != nil {
		return err
	} else if errs != nil {
		return s.askPage(c, http.StatusBadRequest, yp, f, errs)
	}
	s.setFlash(c, "Your request has been sent to "+yp.Name+". They can say yes to all of it, some of it or none of it. You will see their answer here.")
	return c.Redirect(http.StatusSeeOther, "/work/requests")
}

// Read what is shared.

type readData struct {
	YP       consent.Person
	First    string
	Base     string
	Category question
	Purpose  question
	None     bool
}

func (s *Server) readPage(c echo.Context, status int, yp consent.Person, grants []consent.Grant, category, purpose string, errs []frontend.FieldError) error {
	cat := s.svc.Catalogue()
	var cats []choice
	for _, g := range grants {
		if !slices.ContainsFunc(cats, func(x choice) bool { return x.Value == g.Category }) {
			cats = append(cats, choice{Value: g.Category, Label: categoryLabel(cat, g.Category)})
		}
	}
	duty, err := s.svc.HasStatutoryDuty(c.Request().Context(), personID(c))
	if err != nil {
		return err
	}
	var purposes []choice
	for _, p := range cat.Purposes {
		if !p.Statutory || duty {
			purposes = append(purposes, choice{Value: p.ID, Label: p.Name, Hint: upperFirst(strings.ReplaceAll(p.Sentence, "your", "their")) + "."})
		}
	}
	p := s.workView(c, "/work", "Read shared information", nil)
	p.Errors = errs
	d := readData{YP: yp, First: firstName(yp.Name), Base: "/work/yp/" + url.PathEscape(yp.ID), None: len(cats) == 0}
	d.Category = newQuestion("category", "What do you want to read?", []string{category}, cats...)
	d.Category.Error = p.ErrorFor("category")
	d.Purpose = newQuestion("purpose", "Why are you reading it now?", []string{purpose}, purposes...)
	d.Purpose.Hint = "Choose the reason for this time. It must match what " + d.First + " agreed to."
	d.Purpose.Error = p.ErrorFor("purpose")
	p.Data = d
	return s.show(c, status, "work-read", p)
}

func (s *Server) pageWorkRead(c echo.Context) error {
	yp, grants, err := s.svc.YoungPersonForWorker(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	return s.readPage(c, http.StatusOK, yp, grants, "", "", nil)
}

type recordRow struct {
	Org, Where, Since, Content string
}

func (s *Server) pageWorkReadPost(c echo.Context) error {
	ctx := c.Request().Context()
	yp, grants, err := s.svc.YoungPersonForWorker(ctx, personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	category, purpose := c.FormValue("category"), c.FormValue("purpose")
	cat := s.svc.Catalogue()
	var errs []frontend.FieldError
	if _, ok := cat.Category(category); !ok {
		errs = append(errs, frontend.FieldError{Field: "category", Message: "Choose what you want to read"})
	}
	if _, ok := cat.Purpose(purpose); !ok {
		errs = append(errs, frontend.FieldError{Field: "purpose", Message: "Choose why you are reading it now"})
	}
	if len(errs) > 0 {
		return s.readPage(c, http.StatusBadRequest, yp, grants, category, purpose, errs)
	}
	// The read is decided and written to the disclosure log before
	// anything is shown; if the log cannot take it, nothing is shown.
	read, err := s.svc.ReadRecords(ctx, consent.Question{YoungPersonID: yp.ID, ProfessionalID: personID(c), Category: category, Purpose: purpose}, consent.ChannelPortal)
	if err != nil {
		return err
	}
	status := http.StatusOK
	var rows []recordRow
	refused := ""
	if read.Verdict.Allowed {
		for _, r := range read.Records {
			row := recordRow{Org: r.Organisation.Name, Where: r.Holding.System, Since: frontend.Date(r.Holding.Since), Content: r.Holding.Summary}
			if r.Organisation.ID == "" { // a part of the young person's story
				row.Org, row.Where = yp.Name, "In "+possessive(firstName(yp.Name))+" own words, version "+strconv.Itoa(r.Version)
			}
			rows = append(rows, row)
		}
	} else {
		status, refused = http.StatusForbidden, refusals[read.Verdict.Reason]
	}
	k, _ := cat.Category(category)
	return s.show(c, status, "work-records", s.workView(c, "/work", "Shared information", struct {
		YP      consent.Person
		Base    string
		What    string
		Why     string
		Rows    []recordRow
		Refused string
		First   string
	}{yp, "/work/yp/" + url.PathEscape(yp.ID), upperFirst(theirs(firstName(yp.Name), k.Name)), purposeLabel(cat, purpose), rows, refused, firstName(yp.Name)}))
}

// Requests.

type proRequestRow struct {
	Who, What, Why, Asked, Status, StatusClass, Message, Href string
}

func (s *Server) proRequestRow(c echo.Context, r consent.AccessRequest) proRequestRow {
	cat := s.svc.Catalogue()
	row := proRequestRow{Why: purposeLabel(cat, r.Purpose), Asked: frontend.Date(r.CreatedAt), Message: r.Message, Href: "/work/yp/" + url.PathEscape(r.YoungPersonID)}
	if p, err := s.svc.Person(c.Request().Context(), r.YoungPersonID); err == nil {
		row.Who = p.Name
	}
	var what []string
	for _, k := range r.Categories {
		w := categoryLabel(cat, k)
		if r.Status == consent.RequestApproved || r.Status == consent.RequestPartly {
			if slices.Contains(r.Approved, k) {
				w += " (yes)"
			} else {
				w += " (no)"
			}
		}
		what = append(what, w)
	}
	row.What = strings.Join(what, ", ")
	switch r.Status {
	case consent.RequestWaiting:
		row.Status, row.StatusClass = "Waiting", "tag--grey"
	case consent.RequestApproved:
		row.Status, row.StatusClass = "Yes", "tag--green"
	case consent.RequestPartly:
		row.Status, row.StatusClass = "Yes to some", "tag--blue"
	case consent.RequestDeclined:
		row.Status, row.StatusClass = "No", "tag--red"
	case consent.RequestExpired:
		row.Status, row.StatusClass = "Not answered in time", "tag--grey"
	}
	return row
}

func (s *Server) pageWorkRequests(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.svc.WorkerOf(ctx, personID(c)); err != nil {
		return err
	}
	rs, err := s.svc.RequestsByMe(ctx, personID(c))
	if err != nil {
		return err
	}
	var rows []proRequestRow
	for _, r := range rs {
		rows = append(rows, s.proRequestRow(c, r))
	}
	return s.show(c, http.StatusOK, "work-requests", s.workView(c, "/work/requests", "Your requests", rows))
}
