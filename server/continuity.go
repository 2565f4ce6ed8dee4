package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
)

// The API for "my story", handover, statutory access, family rules and
// "why did you look?" questions (issue 8). The rules are in consent.

type storyVersionJSON struct {
	Version   int       `json:"version"`
	Text      string    `json:"text"`
	WrittenAt time.Time `json:"writtenAt"`
}

type storyReadJSON struct {
	LogIndex  int64     `json:"logIndex"`
	At        time.Time `json:"at"`
	ActorID   string    `json:"actorId"`
	ActorName string    `json:"actorName"`
	Sentence  string    `json:"sentence"`
}

type storySectionJSON struct {
	Category string             `json:"category"`
	Name     string             `json:"name"`
	Versions []storyVersionJSON `json:"versions"`
	Reads    []storyReadJSON    `json:"reads"`
}

func (s *Server) handleStory(c echo.Context) error {
	secs, err := s.svc.Story(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	out := []storySectionJSON{}
	for _, sec := range secs {
		j := storySectionJSON{Category: sec.Category.ID, Name: sec.Category.Name, Versions: []storyVersionJSON{}, Reads: []storyReadJSON{}}
		for _, v := range sec.Versions {
			j.Versions = append(j.Versions, storyVersionJSON(v))
		}
		for _, r := range sec.Reads {
			j.Reads = append(j.Reads, storyReadJSON{r.Index, r.Disclosure.At, r.Disclosure.ActorID, r.Disclosure.ActorName, r.Sentence})
		}
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, map[string]any{"sections": out})
}

func (s *Server) handleWriteStory(c echo.Context) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := s.svc.WriteStory(c.Request().Context(), personID(c), c.Param("ypId"), c.Param("section"), in.Text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, storyVersionJSON(v))
}

func (s *Server) handleStoryVersion(c echo.Context) error {
	var in struct {
		Version int `json:"version"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := s.svc.ChooseStoryVersion(c.Request().Context(), personID(c), c.Param("ypId"), c.Param("grantId"), in.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"grant": s.grantOut(g), "storyVersion": g.StoryVersion})
}

type statutoryAccessJSON struct {
	ID             string    `json:"id"`
	ProfessionalID string    `json:"professionalId"`
	OrganisationID string    `json:"organisationId"`
	YoungPersonID  string    `json:"youngPersonId"`
	Categories     []string  `json:"categories"`
	Purpose        string    `json:"purpose"`
	Condition      string    `json:"condition"`
	Reason         string    `json:"reason"`
	OpenedAt       time.Time `json:"openedAt"`
	Until          time.Time `json:"until"`
}

func statutoryOut(a consent.StatutoryAccess) statutoryAccessJSON {
	return statutoryAccessJSON{a.ID, a.ProfessionalID, a.OrganisationID, a.YoungPersonID, a.Categories, a.Purpose, a.Condition, a.Reason, a.OpenedAt, a.Until}
}

func (s *Server) handleOpenStatutory(c echo.Context) error {
	var in struct {
		Categories []string `json:"categories"`
		Purpose    string   `json:"purpose"`
		Condition  string   `json:"condition"`
		Reason     string   `json:"reason"`
		Hours      int      `json:"hours"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.svc.OpenStatutoryAccess(c.Request().Context(), personID(c), c.Param("ypId"), consent.NewStatutoryAccess(in))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, statutoryOut(a))
}

type delayJSON struct {
	LogIndex  int64     `json:"logIndex"`
	DecidedBy string    `json:"decidedBy"`
	DecidedAt time.Time `json:"decidedAt"`
	ReviewBy  time.Time `json:"reviewBy"`
	Reason    string    `json:"reason"`
}

type statutoryReviewJSON struct {
	Access     statutoryAccessJSON `json:"access"`
	Reads      []int64             `json:"reads"`
	Reviewed   bool                `json:"reviewed"`
	ReviewedBy string              `json:"reviewedBy,omitempty"`
	Hidden     bool                `json:"hiddenFromYoungPerson"`
	Delays     []delayJSON         `json:"delays"`
}

func (s *Server) handleStatutoryReviews(c echo.Context) error {
	rs, err := s.svc.StatutoryReviews(c.Request().Context(), personID(c), c.Param("orgId"))
	if err != nil {
		return err
	}
	out := []statutoryReviewJSON{}
	for _, r := range rs {
		j := statutoryReviewJSON{Access: statutoryOut(r.Access), Reads: []int64{}, Reviewed: r.Reviewed, ReviewedBy: r.ReviewedBy,
			Hidden: r.Hidden(s.now()), Delays: []delayJSON{}}
		for _, l := range r.Reads {
			j.Reads = append(j.Reads, l.Index)
		}
		for _, d := range r.Delays {
			j.Delays = append(j.Delays, delayJSON{d.LogIndex, d.DecidedBy, d.DecidedAt, d.ReviewBy, d.Reason})
		}
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, map[string]any{"accesses": out})
}

func (s *Server) handleDelayTelling(c echo.Context) error {
	var in struct {
		Reason   string    `json:"reason"`
		ReviewBy time.Time `json:"reviewBy"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	d, err := s.svc.DelayTelling(c.Request().Context(), personID(c), c.Param("orgId"), c.Param("accessId"), in.Reason, in.ReviewBy)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, delayJSON{d.LogIndex, d.DecidedBy, d.DecidedAt, d.ReviewBy, d.Reason})
}

func (s *Server) handleMarkReviewed(c echo.Context) error {
	var in struct {
		Note string `json:"note"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	idx, err := s.svc.MarkReviewed(c.Request().Context(), personID(c), c.Param("orgId"), c.Param("accessId"), in.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"logIndex": idx})
}

type handoverShareJSON struct {
	Category string    `json:"category"`
	Purpose  string    `json:"purpose"`
	Until    time.Time `json:"until"`
}

type handoverJSON struct {
	ID             string              `json:"id"`
	FromID         string              `json:"fromId"`
	OrganisationID string              `json:"organisationId"`
	SuccessorID    string              `json:"successorId"`
	Note           string              `json:"note"`
	CreatedAt      time.Time           `json:"createdAt"`
	Shares         []handoverShareJSON `json:"shares"`
	Answer         string              `json:"answer,omitempty"`
	AnsweredBy     string              `json:"answeredBy,omitempty"`
}

func handoverOut(h consent.Handover) handoverJSON {
	out := handoverJSON{ID: h.ID, FromID: h.FromID, OrganisationID: h.OrganisationID, SuccessorID: h.SuccessorID, Note: h.Note,
		CreatedAt: h.CreatedAt, Shares: []handoverShareJSON{}, Answer: string(h.Answer), AnsweredBy: h.AnsweredBy}
	for _, sh := range h.Shares {
		out.Shares = append(out.Shares, handoverShareJSON(sh))
	}
	return out
}

func (s *Server) handleStartHandover(c echo.Context) error {
	var in struct {
		YoungPersonID string `json:"youngPersonId"`
		SuccessorID   string `json:"successorId"`
		Note          string `json:"note"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.YoungPersonID == "" {
		return consent.Invalid("youngPersonId", "say which young person")
	}
	h, err := s.svc.StartHandover(c.Request().Context(), personID(c), in.YoungPersonID, in.SuccessorID, in.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, handoverOut(h))
}

func (s *Server) handleHandovers(c echo.Context) error {
	hs, err := s.svc.Handovers(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	out := []handoverJSON{}
	for _, h := range hs {
		out = append(out, handoverOut(h))
	}
	return c.JSON(http.StatusOK, map[string]any{"handovers": out})
}

func (s *Server) handleAnswerHandover(c echo.Context) error {
	var in struct {
		Answer string              `json:"answer"`
		Shares []handoverShareJSON `json:"shares"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var shares []consent.HandoverShare
	for _, sh := range in.Shares {
		shares = append(shares, consent.HandoverShare(sh))
	}
	h, grants, err := s.svc.AnswerHandover(c.Request().Context(), personID(c), c.Param("ypId"), c.Param("handoverId"), consent.HandoverAnswer(in.Answer), shares)
	if err != nil {
		return err
	}
	gs := []grantJSON{}
	for _, g := range grants {
		gs = append(gs, s.grantOut(g))
	}
	return c.JSON(http.StatusOK, map[string]any{"handover": handoverOut(h), "grants": gs})
}

func (s *Server) handleEndMembership(c echo.Context) error {
	m, err := s.svc.EndMembership(c.Request().Context(), personID(c), c.Param("orgId"), c.Param("membershipId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": m.ID, "personId": m.PersonID, "organisationId": m.OrganisationID, "endedAt": m.EndedAt})
}

type familyRuleJSON struct {
	FamilyID     string   `json:"familyId"`
	Name         string   `json:"name"`
	Relationship string   `json:"relationship"`
	See          []string `json:"see"`
	Act          bool     `json:"act"`
}

func (s *Server) handleFamily(c echo.Context) error {
	ctx, actor, yp := c.Request().Context(), personID(c), c.Param("ypId")
	members, err := s.svc.Family(ctx, actor, yp)
	if err != nil {
		return err
	}
	rules, err := s.svc.FamilySee(ctx, actor, yp)
	if err != nil {
		return err
	}
	out := []familyRuleJSON{}
	for _, m := range members {
		r := rules[m.Person.ID]
		see := r.See
		if see == nil {
			see = []string{}
		}
		out = append(out, familyRuleJSON{m.Person.ID, m.Person.Name, m.Link.Relationship, see, r.Act})
	}
	return c.JSON(http.StatusOK, map[string]any{"family": out})
}

func (s *Server) handleSetFamilyRule(c echo.Context) error {
	var in struct {
		See []string `json:"see"`
		Act bool     `json:"act"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.svc.SetFamilyRule(c.Request().Context(), personID(c), c.Param("ypId"), c.Param("familyId"), in.See, in.Act)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"familyId": r.FamilyID, "see": r.See, "act": r.Act})
}

func (s *Server) handleFamilyActions(c echo.Context) error {
	as, err := s.svc.FamilyActions(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	type actionJSON struct {
		At       time.Time `json:"at"`
		FamilyID string    `json:"familyId"`
		Sentence string    `json:"sentence"`
	}
	out := []actionJSON{}
	for _, a := range as {
		out = append(out, actionJSON(a))
	}
	return c.JSON(http.StatusOK, map[string]any{"actions": out})
}

type questionJSON struct {
	ID             string     `json:"id"`
	LogIndex       int64      `json:"logIndex"`
	YoungPersonID  string     `json:"youngPersonId"`
	AskedBy        string     `json:"askedBy"`
	OrganisationID string     `json:"organisationId"`
	Message        string     `json:"message"`
	AskedAt        time.Time  `json:"askedAt"`
	DueBy          time.Time  `json:"dueBy"`
	Overdue        bool       `json:"overdue"`
	Answer         string     `json:"answer,omitempty"`
	AnsweredBy     string     `json:"answeredBy,omitempty"`
	AnsweredAt     *time.Time `json:"answeredAt,omitempty"`
}

func (s *Server) questionOut(q consent.Concern) questionJSON {
	out := questionJSON{ID: q.ID, LogIndex: q.LogIndex, YoungPersonID: q.YoungPersonID, AskedBy: q.RaisedBy, OrganisationID: q.OrganisationID,
		Message: q.Message, AskedAt: q.CreatedAt, DueBy: q.DueBy(), Overdue: q.Overdue(s.now()), Answer: q.Answer, AnsweredBy: q.AnsweredBy}
	if !q.AnsweredAt.IsZero() {
		t := q.AnsweredAt
		out.AnsweredAt = &t
	}
	return out
}

func (s *Server) handleQuestions(c echo.Context) error {
	qs, err := s.svc.ConcernsAbout(c.Request().Context(), personID(c), c.Param("ypId"))
	if err != nil {
		return err
	}
	out := []questionJSON{}
	for _, q := range qs {
		out = append(out, s.questionOut(q))
	}
	return c.JSON(http.StatusOK, map[string]any{"questions": out})
}

func (s *Server) handleAskWhy(c echo.Context) error {
	var in struct {
		LogIndex *int64 `json:"logIndex"`
		Message  string `json:"message"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.LogIndex == nil {
		return consent.Invalid("logIndex", "say which entry you are asking about")
	}
	q, err := s.svc.RaiseConcern(c.Request().Context(), personID(c), c.Param("ypId"), *in.LogIndex, in.Message)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.questionOut(q))
}

func (s *Server) handleOrgQuestions(c echo.Context) error {
	qs, err := s.svc.OrgConcerns(c.Request().Context(), personID(c), c.Param("orgId"))
	if err != nil {
		return err
	}
	out := []questionJSON{}
	for _, q := range qs {
		out = append(out, s.questionOut(q.Concern))
	}
	return c.JSON(http.StatusOK, map[string]any{"questions": out})
}

func (s *Server) handleAnswerQuestion(c echo.Context) error {
	var in struct {
		Answer string `json:"answer"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	q, err := s.svc.AnswerConcern(c.Request().Context(), personID(c), c.Param("orgId"), c.Param("questionId"), in.Answer)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.questionOut(q))
}
