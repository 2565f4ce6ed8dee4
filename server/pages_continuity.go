package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
	"sayso/frontend"
)

// Pages for "my story", handover, family rules, statutory access and its
// review (issue 8). The rules are in consent; these parse, call, render.

// ---- My story (the young person's own pages)

type storyVersionView struct {
	Version       int
	Text, Written string
}

type storyShareView struct {
	GrantID, Who string
	Versions     []option // "" is the newest; the rest are version numbers
}

type storySectionView struct {
	ID, Name, About string
	Latest          storyVersionView
	Earlier         []storyVersionView
	Reads           []string
	Sharing         []storyShareView
}

// loadOwnStory allows only the young person: the story is in their words.
func (s *Server) loadOwnStory(c echo.Context) (ypCtx, error) {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return y, err
	}
	if !y.Self {
		return y, consent.ErrNotFound
	}
	return y, nil
}

func (s *Server) pageYPStory(c echo.Context) error {
	ctx := c.Request().Context()
	y, err := s.loadOwnStory(c)
	if err != nil {
		return err
	}
	secs, err := s.svc.Story(ctx, personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	grants, err := s.svc.Grants(ctx, personID(c), y.YP.ID)
	if err != nil {
		return err
	}
	names, now := s.names(c), s.now()
	var views []storySectionView
	for _, sec := range secs {
		v := storySectionView{ID: sec.Category.ID, Name: upperFirst(strings.TrimPrefix(sec.Category.Name, "your story: ")), About: sec.Category.About}
		for i, x := range sec.Versions {
			vv := storyVersionView{Version: x.Version, Text: x.Text, Written: frontend.Date(x.WrittenAt)}
			if i == len(sec.Versions)-1 {
				v.Latest = vv
			} else {
				v.Earlier = append([]storyVersionView{vv}, v.Earlier...)
			}
		}
		for _, r := range sec.Reads {
			v.Reads = append(v.Reads, r.Sentence)
		}
		for _, g := range grants {
			if !g.ActiveAt(now) || (g.Category != sec.Category.ID && g.Category != consent.StoryCategory) {
				continue
			}
			sh := storyShareView{Who: workerWords(names.worker(g.ProfessionalID))}
			if g.Category == sec.Category.ID && len(sec.Versions) > 1 {
				sh.GrantID = g.ID
				sh.Versions = append(sh.Versions, option{Value: "0", Label: "The newest version", Selected: g.StoryVersion == 0})
				for _, x := range sec.Versions {
					sh.Versions = append(sh.Versions, option{Value: strconv.Itoa(x.Version),
						Label: "Version " + strconv.Itoa(x.Version) + ", written " + frontend.Date(x.WrittenAt), Selected: g.StoryVersion == x.Version})
				}
			}
			v.Sharing = append(v.Sharing, sh)
		}
		views = append(views, v)
	}
	return s.show(c, http.StatusOK, "yp-story", s.ypView(c, y, "/story", "My story", struct {
		Y        ypCtx
		Sections []storySectionView
	}{y, views}))
}

func (s *Server) storyEditPage(c echo.Context, status int, y ypCtx, sec consent.StorySection, text string, errs []frontend.FieldError) error {
	p := s.ypView(c, y, "/story", upperFirst(strings.TrimPrefix(sec.Category.Name, "your story: ")), struct {
		Y        ypCtx
		ID, Name string
		About    string
		Text     string
		Version  int
	}{y, sec.Category.ID, upperFirst(strings.TrimPrefix(sec.Category.Name, "your story: ")), sec.Category.About, text, len(sec.Versions)})
	p.Errors, p.Exit = errs, true
	return s.show(c, status, "yp-story-edit", p)
}

// storySection is the young person and the section of their story at :section.
func (s *Server) storySection(c echo.Context) (ypCtx, consent.StorySection, error) {
	y, err := s.loadOwnStory(c)
	if err != nil {
		return y, consent.StorySection{}, err
	}
	secs, err := s.svc.Story(c.Request().Context(), personID(c), y.YP.ID)
	if err != nil {
		return y, consent.StorySection{}, err
	}
	sec, err := find(secs, func(x consent.StorySection) bool { return x.Category.ID == c.Param("section") })
	return y, sec, err
}

func (s *Server) pageYPStoryEdit(c echo.Context) error {
	y, sec, err := s.storySection(c)
	if err != nil {
		return err
	}
	return s.storyEditPage(c, http.StatusOK, y, sec, sec.Latest().Text, nil)
}

func (s *Server) pageYPStoryEditPost(c echo.Context) error {
	y, sec, err := s.storySection(c)
	if err != nil {
		return err
	}
	text := c.FormValue("text")
	v, err := s.svc.WriteStory(c.Request().Context(), personID(c), y.YP.ID, sec.Category.ID, text)
	if errs, err := formErrors(err, map[string]frontend.FieldError{"text": {Field: "text", Message: "Write something here, up to 5,000 letters, or go back"}}); err != nil {
		return err
	} else if errs != nil {
		return s.storyEditPage(c, http.StatusBadRequest, y, sec, text, errs)
	}
	s.setFlash(c, "Saved. This is version "+strconv.Itoa(v.Version)+". Your earlier words are kept. Nobody sees them unless you choose that version for someone.")
	return c.Redirect(http.StatusSeeOther, y.Base+"/story#"+sec.Category.ID)
}

func (s *Server) pageYPStoryVersionPost(c echo.Context) error {
	y, err := s.loadOwnStory(c)
	if err != nil {
		return err
	}
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return consent.ErrNotFound
	}
	if _, err := s.svc.ChooseStoryVersion(c.Request().Context(), personID(c), y.YP.ID, c.FormValue("grant"), version); err != nil {
		return err
	}
	s.setFlash(c, "Saved. They will see the version you chose.")
	return c.Redirect(http.StatusSeeOther, y.Base+"/story#"+url.PathEscape(c.Param("section")))
}

// ---- Handover: the young person decides about the successor

type handoverCard struct {
	ID, From, Org, Successor, Note, Written string
	Shares                                  []string
}

func (s *Server) handoverCard(c echo.Context, y ypCtx, h consent.Handover) handoverCard {
	names, cat := s.names(c), s.svc.Catalogue()
	from := names.person(h.FromID).Name
	card := handoverCard{ID: h.ID, From: from, Successor: names.person(h.SuccessorID).Name, Note: h.Note, Written: frontend.Date(h.CreatedAt)}
	if org, err := s.svc.Organisation(c.Request().Context(), h.OrganisationID); err == nil {
		card.Org = org.Name
	}
	for _, sh := range h.Shares {
		card.Shares = append(card.Shares, upperFirst(y.category(cat, sh.Category))+", "+y.purpose(cat, sh.Purpose))
	}
	return card
}

// pendingHandovers are the handovers waiting for the young person's answer.
func (s *Server) pendingHandovers(c echo.Context, y ypCtx) ([]handoverCard, error) {
	hs, err := s.svc.Handovers(c.Request().Context(), personID(c), y.YP.ID)
	if err != nil {
		return nil, err
	}
	var out []handoverCard
	for _, h := range hs {
		if h.Answer == "" {
			out = append(out, s.handoverCard(c, y, h))
		}
	}
	return out, nil
}

// handoverFor is the young person and their handover at :handoverId.
func (s *Server) handoverFor(c echo.Context) (ypCtx, consent.Handover, error) {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return y, consent.Handover{}, err
	}
	hs, err := s.svc.Handovers(c.Request().Context(), personID(c), y.YP.ID)
	if err != nil {
		return y, consent.Handover{}, err
	}
	h, err := find(hs, func(h consent.Handover) bool { return h.ID == c.Param("handoverId") })
	return y, h, err
}

func (s *Server) handoverPage(c echo.Context, status int, y ypCtx, h consent.Handover, ticked []string, errs []frontend.FieldError) error {
	card := s.handoverCard(c, y, h)
	var opts []choice
	for i, label := range card.Shares {
		opts = append(opts, choice{Value: strconv.Itoa(i), Label: label})
	}
	q := newQuestion("share", "What can "+card.Successor+" see?", ticked, opts...)
	q.Checkboxes, q.Hint = true, "These are what "+card.From+" could see. Untick anything you don't want "+card.Successor+" to see."
	p := s.ypView(c, y, "", card.From+" has handed over to "+card.Successor, nil)
	p.Errors = errs
	q.Error = p.ErrorFor("share")
	p.Data = struct {
		Y        ypCtx
		Card     handoverCard
		Question question
		Answered bool
	}{y, card, q, h.Answer != ""}
	return s.show(c, status, "yp-handover", p)
}

func (s *Server) pageYPHandover(c echo.Context) error {
	y, h, err := s.handoverFor(c)
	if err != nil {
		return err
	}
	var all []string
	for i := range h.Shares {
		all = append(all, strconv.Itoa(i))
	}
	return s.handoverPage(c, http.StatusOK, y, h, all, nil)
}

func (s *Server) pageYPHandoverPost(c echo.Context) error {
	y, h, err := s.handoverFor(c)
	if err != nil {
		return err
	}
	if err := c.Request().ParseForm(); err != nil {
		return consent.Invalid("share", "could not read the form")
	}
	ticked := c.Request().PostForm["share"]
	answer, shares := consent.HandoverDeclined, []consent.HandoverShare(nil)
	if c.FormValue("action") != "decline" {
		for _, v := range ticked {
			i, err := strconv.Atoi(v)
			if err != nil || i < 0 || i >= len(h.Shares) {
				return consent.ErrNotFound
			}
			shares = append(shares, h.Shares[i])
		}
		if len(shares) == 0 && len(h.Shares) > 0 {
			return s.handoverPage(c, http.StatusBadRequest, y, h, ticked, []frontend.FieldError{{Field: "share",
				Message: "Tick what " + firstName(s.names(c).person(h.SuccessorID).Name) + " can see, or choose not to share anything"}})
		}
		answer = consent.HandoverChanged
		if len(shares) == len(h.Shares) {
			answer = consent.HandoverAccepted
		}
	}
	done, _, err := s.svc.AnswerHandover(c.Request().Context(), personID(c), y.YP.ID, h.ID, answer, shares)
	if err != nil {
		return err
	}
	successor := s.names(c).person(done.SuccessorID).Name
	if done.Answer == consent.HandoverDeclined {
		s.setFlash(c, "Done. "+successor+" can't see anything. You can share with them later if you change your mind.")
	} else {
		s.setFlash(c, "Done. "+successor+" can now see what you ticked. You can stop it at any time on Who can see what.")
	}
	return c.Redirect(http.StatusSeeOther, y.Base)
}

// ---- Family rules: what each family member may see

func (s *Server) pageYPFamilyRulePost(c echo.Context) error {
	y, err := s.loadYP(c, c.Param("ypId"))
	if err != nil {
		return err
	}
	if !y.Self || !y.Decide {
		return consent.ErrNotFound
	}
	if err := c.Request().ParseForm(); err != nil {
		return consent.Invalid("see", "could not read the form")
	}
	familyID := c.Param("familyId")
	rule, err := s.svc.SetFamilyRule(c.Request().Context(), personID(c), y.YP.ID, familyID, c.Request().PostForm["see-"+familyID], c.FormValue("act") == "yes")
	if err != nil {
		return err
	}
	who := firstName(s.names(c).person(familyID).Name)
	if len(rule.See) == 0 {
		s.setFlash(c, "Saved. "+who+" can't see anything about you on Sayso now.")
	} else {
		s.setFlash(c, "Saved. "+who+" can see only what you ticked.")
	}
	return c.Redirect(http.StatusSeeOther, y.Base+"/family")
}

// ---- A professional hands over

func (s *Server) workHandoverPage(c echo.Context, status int, yp consent.Person, successor, note string, errs []frontend.FieldError) error {
	people, err := s.svc.Colleagues(c.Request().Context(), personID(c))
	if err != nil {
		return err
	}
	var opts []choice
	for _, p := range people {
		opts = append(opts, choice{Value: p.ID, Label: p.Name})
	}
	first := firstName(yp.Name)
	q := newQuestion("successor", "Who is taking over?", []string{successor}, opts...)
	q.Hint = first + " will be asked whether they can see what you could. Nobody sees anything until " + first + " says yes."
	p := s.workView(c, "/work", "Hand over "+first, nil)
	p.Errors = errs
	q.Error = p.ErrorFor("successor")
	p.Data = struct {
		YP       consent.Person
		First    string
		Base     string
		Question question
		Note     string
		NoteErr  string
		None     bool
	}{yp, first, "/work/yp/" + url.PathEscape(yp.ID), q, note, p.ErrorFor("note"), len(opts) == 0}
	return s.show(c, status, "work-handover", p)
}

func (s *Server) pageWorkHandover(c echo.Context) error {
	yp, _, err := s.svc.YoungPersonForWorker(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	return s.workHandoverPage(c, http.StatusOK, yp, "", "", nil)
}

func (s *Server) pageWorkHandoverPost(c echo.Context) error {
	ctx := c.Request().Context()
	yp, _, err := s.svc.YoungPersonForWorker(ctx, personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	successor, note := c.FormValue("successor"), c.FormValue("note")
	_, err = s.svc.StartHandover(ctx, personID(c), yp.ID, successor, note)
	if errs, err := formErrors(err, map[string]frontend.FieldError{
		"successorId": {Field: "successor", Message: "Choose who is taking over"},
		"note":        {Field: "note", Message: "Your note must be 2,000 characters or fewer"},
	}); err != nil {
		return err
	} else if errs != nil {
		return s.workHandoverPage(c, http.StatusBadRequest, yp, successor, note, errs)
	}
	s.setFlash(c, "You have handed over. You can no longer see "+possessive(firstName(yp.Name))+" information, and "+firstName(yp.Name)+" will see your note first.")
	return c.Redirect(http.StatusSeeOther, "/work")
}

// ---- A professional with a statutory duty opens statutory access

type statutoryForm struct {
	Categories           []string
	Condition, Reason    string
	Hours                string
	ReasonErr, HoursText string
}

func (s *Server) statutoryPage(c echo.Context, status int, yp consent.Person, f statutoryForm, errs []frontend.FieldError) error {
	cat := s.svc.Catalogue()
	var cats, conds []choice
	for _, k := range cat.Categories {
		if k.Parent == "" || k.Parent == "contact" {
			cats = append(cats, choice{Value: k.ID, Label: categoryLabel(cat, k.ID)})
		}
	}
	for _, k := range cat.Conditions {
		conds = append(conds, choice{Value: k.ID, Label: k.Name})
	}
	first := firstName(yp.Name)
	p := s.workView(c, "/work", "Statutory access to "+possessive(first)+" information", nil)
	p.Errors = errs
	qc := newQuestion("categories", "What do you need to see?", f.Categories, cats...)
	qc.Checkboxes, qc.Error = true, p.ErrorFor("categories")
	ql := newQuestion("condition", "Which law are you relying on?", []string{f.Condition}, conds...)
	ql.Error = p.ErrorFor("condition")
	qh := newQuestion("hours", "For how long?", []string{f.Hours}, choice{Value: "24", Label: "24 hours"}, choice{Value: "48", Label: "48 hours"}, choice{Value: "72", Label: "72 hours (the most allowed)"})
	qh.Error, qh.Small = p.ErrorFor("hours"), true
	p.Data = struct {
		YP                         consent.Person
		First, Base                string
		Categories, Condition, For question
		Reason, ReasonErr          string
	}{yp, first, "/work/yp/" + url.PathEscape(yp.ID), qc, ql, qh, f.Reason, p.ErrorFor("reason")}
	return s.show(c, status, "work-statutory", p)
}

// statutoryWorker is the young person for a professional with a duty.
func (s *Server) statutoryWorker(c echo.Context) (consent.Person, error) {
	ctx := c.Request().Context()
	yp, _, err := s.svc.YoungPersonForWorker(ctx, personID(c), c.Param("ypId"))
	if err != nil {
		return yp, err
	}
	if ok, err := s.svc.HasStatutoryDuty(ctx, personID(c)); err != nil {
		return yp, err
	} else if !ok {
		return yp, consent.ErrNotFound
	}
	return yp, nil
}

func (s *Server) pageWorkStatutory(c echo.Context) error {
	yp, err := s.statutoryWorker(c)
	if err != nil {
		return err
	}
	return s.statutoryPage(c, http.StatusOK, yp, statutoryForm{Hours: "72"}, nil)
}

func (s *Server) pageWorkStatutoryPost(c echo.Context) error {
	ctx := c.Request().Context()
	yp, err := s.statutoryWorker(c)
	if err != nil {
		return err
	}
	if err := c.Request().ParseForm(); err != nil {
		return consent.Invalid("categories", "could not read the form")
	}
	f := statutoryForm{Categories: c.Request().PostForm["categories"], Condition: c.FormValue("condition"), Reason: c.FormValue("reason"), Hours: c.FormValue("hours")}
	hours, _ := strconv.Atoi(f.Hours)
	if hours == 0 {
		hours = -1 // an answer is needed; consent says what is allowed
	}
	purpose := ""
	for _, p := range s.svc.Catalogue().Purposes {
		if p.Statutory {
			purpose = p.ID
			break
		}
	}
	a, err := s.svc.OpenStatutoryAccess(ctx, personID(c), yp.ID, consent.NewStatutoryAccess{Categories: f.Categories, Purpose: purpose,
		Condition: f.Condition, Reason: f.Reason, Hours: hours})
	if errs, err := formErrors(err, map[string]frontend.FieldError{
		"categories": {Field: "categories", Message: "Choose what you need to see"},
		"condition":  {Field: "condition", Message: "Choose the law you are relying on"},
		"reason":     {Field: "reason", Message: "Write why you need this now, in up to 2,000 characters"},
		"hours":      {Field: "hours", Message: "Choose for how long"},
	}); err != nil {
		return err
	} else if errs != nil {
		return s.statutoryPage(c, http.StatusBadRequest, yp, f, errs)
	}
	s.setFlash(c, "Statutory access is open until "+frontend.DateTime(a.Until)+". Each time you read, it is logged and your data protection officer reviews it.")
	return c.Redirect(http.StatusSeeOther, "/work/yp/"+url.PathEscape(yp.ID)+"/read")
}

// ---- The DPO's review of statutory access

type statutoryRow struct {
	ID, Who, Whom, What, Law, Reason, Opened, Until string
	Reads                                           int
	Reviewed, Told                                  string
	Due                                             bool
}

func (s *Server) statutoryRow(c echo.Context, r consent.StatutoryReview) statutoryRow {
	names, cat, now := s.names(c), s.svc.Catalogue(), s.now()
	var what []string
	for _, k := range r.Access.Categories {
		what = append(what, categoryLabel(cat, k))
	}
	law := r.Access.Condition
	if k, ok := cat.Condition(law); ok {
		law = k.Name
	}
	row := statutoryRow{ID: r.Access.ID, Who: workerWords(names.worker(r.Access.ProfessionalID)), Whom: names.person(r.Access.YoungPersonID).Name,
		What: strings.Join(what, ", "), Law: law, Reason: r.Access.Reason, Opened: frontend.DateTime(r.Access.OpenedAt),
		Until: frontend.DateTime(r.Access.Until), Reads: len(r.Reads), Reviewed: "Not reviewed yet", Told: "Told: it shows in their list of who has looked"}
	if r.Reviewed {
		row.Reviewed = "Reviewed by " + names.person(r.ReviewedBy).Name + ", " + frontend.DateTime(r.ReviewedAt)
	}
	switch {
	case r.Hidden(now):
		last := r.Delays[len(r.Delays)-1]
		row.Told = "Not told until " + frontend.DateTime(last.ReviewBy) + ": " + last.Reason
		row.Due = last.ReviewBy.Sub(now) < 3*24*time.Hour
	case len(r.Reads) == 0:
		row.Told = "Nothing read yet. They will see each read, unless you delay telling them before it happens"
	}
	row.Due = row.Due || !r.Reviewed
	return row
}

func (s *Server) pageDPOStatutory(c echo.Context) error {
	org, err := s.dpoOrg(c, c.Param("orgId"))
	if err != nil {
		return err
	}
	rs, err := s.svc.StatutoryReviews(c.Request().Context(), personID(c), org.ID)
	if err != nil {
		return err
	}
	var rows []statutoryRow
	for _, r := range rs {
		rows = append(rows, s.statutoryRow(c, r))
	}
	return s.show(c, http.StatusOK, "dpo-statutory", s.dpoView(c, org.ID, "/statutory", "Statutory access", struct {
		Org  consent.Organisation
		Base string
		Rows []statutoryRow
	}{org, "/dpo/" + url.PathEscape(org.ID), rows}))
}

func (s *Server) dpoAccessPage(c echo.Context, status int, org consent.Organisation, reason string, date dateInput, errs []frontend.FieldError) error {
	r, err := s.svc.StatutoryReview(c.Request().Context(), personID(c), org.ID, c.Param("accessId"))
	if err != nil {
		return err
	}
	row := s.statutoryRow(c, r)
	p := s.dpoView(c, org.ID, "/statutory", "Statutory access to "+possessive(firstName(row.Whom))+" information", nil)
	p.Errors = errs
	date.Error = p.ErrorFor("until-day")
	var delays []string
	for _, d := range r.Delays {
		delays = append(delays, s.names(c).person(d.DecidedBy).Name+" decided on "+frontend.DateTime(d.DecidedAt)+" not to tell them until "+frontend.DateTime(d.ReviewBy)+": "+d.Reason)
	}
	p.Data = struct {
		Org       consent.Organisation
		Base      string
		Row       statutoryRow
		Reviewed  bool
		Delays    []string
		Reason    string
		ReasonErr string
		Date      dateInput
	}{org, "/dpo/" + url.PathEscape(org.ID) + "/statutory/" + url.PathEscape(row.ID), row, r.Reviewed, delays, reason, p.ErrorFor("reason"), date}
	return s.show(c, status, "dpo-statutory-access", p)
}

func (s *Server) pageDPOAccess(c echo.Context) error {
	org, err := s.dpoOrg(c, c.Param("orgId"))
	if err != nil {
		return err
	}
	return s.dpoAccessPage(c, http.StatusOK, org, "", dateInput{}, nil)
}

func (s *Server) pageDPOAccessReviewed(c echo.Context) error {
	org, err := s.dpoOrg(c, c.Param("orgId"))
	if err != nil {
		return err
	}
	if _, err := s.svc.MarkReviewed(c.Request().Context(), personID(c), org.ID, c.Param("accessId"), c.FormValue("note")); err != nil {
		return err
	}
	s.setFlash(c, "Recorded in the log: you reviewed this access.")
	return c.Redirect(http.StatusSeeOther, "/dpo/"+url.PathEscape(org.ID)+"/statutory/"+url.PathEscape(c.Param("accessId")))
}

func (s *Server) pageDPOAccessDelay(c echo.Context) error {
	org, err := s.dpoOrg(c, c.Param("orgId"))
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	date := dateInput{Day: c.FormValue("until-day"), Month: c.FormValue("until-month"), Year: c.FormValue("until-year")}
	// The last day of the delay: the young person is told after it ends.
	until, ferr := s.untilFrom("date", date)
	if ferr != nil {
		return s.dpoAccessPage(c, http.StatusBadRequest, org, reason, date, []frontend.FieldError{*ferr})
	}
	_, err = s.svc.DelayTelling(c.Request().Context(), personID(c), org.ID, c.Param("accessId"), reason, until)
	if errs, err := formErrors(err, map[string]frontend.FieldError{
		"reason":   {Field: "reason", Message: "Write why telling them now would put them or someone else at risk"},
		"reviewBy": {Field: "until-day", Message: "The last day can be at most 28 days from now"},
	}); err != nil {
		return err
	} else if errs != nil {
		return s.dpoAccessPage(c, http.StatusBadRequest, org, reason, date, errs)
	}
	s.setFlash(c, "Recorded in the log. They will be told after "+frontend.Date(until)+" unless you renew this decision before then.")
	return c.Redirect(http.StatusSeeOther, "/dpo/"+url.PathEscape(org.ID)+"/statutory/"+url.PathEscape(c.Param("accessId")))
}
