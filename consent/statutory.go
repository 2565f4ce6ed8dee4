package consent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Limits on statutory access and on delaying telling the young person.
const (
	MaxStatutoryLength = 72 * time.Hour
	MaxTellingDelay    = 28 * 24 * time.Hour
)

// Reasons a statutory read is refused.
const (
	ReasonNotStatutoryRole  Reason = "not-a-statutory-role"
	ReasonNoStatutoryAccess Reason = "no-statutory-access"
)

// NewStatutoryAccess is what a professional with a statutory duty asks to open.
type NewStatutoryAccess struct {
	Categories []string
	Purpose    string
	Condition  string
	Reason     string
	Hours      int // 0: the most allowed
}

// StatutoryAccess is access opened under a statutory duty, without consent.
// Every step of it is in the disclosure log.
type StatutoryAccess struct {
	ID             string
	ProfessionalID string
	OrganisationID string
	YoungPersonID  string
	Categories     []string
	Purpose        string
	Condition      string
	Reason         string
	OpenedAt       time.Time
	Until          time.Time
}

// isStatutoryRole reports whether the operator marked role as holding a duty.
func (s *Service) isStatutoryRole(r Role) bool { return slices.Contains(s.rules.StatutoryRoles, r) }

// OpenStatutoryAccess opens access for up to 72 hours under a statutory
// duty. Only a professional whose role holds a statutory duty may; anyone
// else's attempt is logged as refused and answered ErrForbidden. Each
// category's opening is durable in the log before the access exists.
// Errors: ErrNotFound (no such young person), ErrForbidden, ErrInvalid,
// ErrUnavailable (the log could not take it: nothing opened).
func (s *Service) OpenStatutoryAccess(ctx context.Context, profID, ypID string, in NewStatutoryAccess) (StatutoryAccess, error) {
	now := Millis(s.now())
	// Who is asking first, so nobody else learns which young people exist.
	m, ok, err := s.activeMembership(ctx, profID, now)
	if err != nil {
		return StatutoryAccess{}, err
	}
	if !ok {
		return StatutoryAccess{}, fmt.Errorf("%w: only a professional working with an organisation can do this", ErrForbidden)
	}
	if yp, err := s.store.GetPerson(ctx, ypID); err != nil || !yp.IsYoungPerson() {
		return StatutoryAccess{}, ErrNotFound
	}
	if len(in.Categories) == 0 {
		return StatutoryAccess{}, Invalid("categories", "choose at least one kind of information")
	}
	for i, c := range in.Categories {
		if _, ok := s.catalogue.Category(c); !ok {
			return StatutoryAccess{}, Invalid("categories", fmt.Sprintf("%q is not a category Sayso knows", c))
		}
		if slices.Contains(in.Categories[:i], c) {
			return StatutoryAccess{}, Invalid("categories", fmt.Sprintf("%q is listed twice", c))
		}
	}
	if p, ok := s.catalogue.Purpose(in.Purpose); !ok || !p.Statutory {
		return StatutoryAccess{}, Invalid("purpose", "not a statutory purpose")
	}
	if _, ok := s.catalogue.Condition(in.Condition); !ok {
		return StatutoryAccess{}, Invalid("condition", "choose the law you rely on from the list")
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return StatutoryAccess{}, Invalid("reason", "write why you need this now")
	}
	if len(reason) > maxReasonLength {
		return StatutoryAccess{}, Invalid("reason", "is too long")
	}
	if in.Hours == 0 {
		in.Hours = int(MaxStatutoryLength / time.Hour)
	}
	if in.Hours < 1 || time.Duration(in.Hours)*time.Hour > MaxStatutoryLength {
		return StatutoryAccess{}, Invalid("hours", "must be from 1 to 72 hours")
	}
	a := StatutoryAccess{ID: NewID("sa"), ProfessionalID: profID, OrganisationID: m.OrganisationID, YoungPersonID: ypID,
		Categories: slices.Clone(in.Categories), Purpose: in.Purpose, Condition: in.Condition, Reason: reason,
		OpenedAt: now, Until: now.Add(time.Duration(in.Hours) * time.Hour)}
	q := Question{YoungPersonID: ypID, ProfessionalID: profID, OrganisationID: m.OrganisationID, Purpose: in.Purpose, At: now}
	if !s.isStatutoryRole(m.Role) {
		// The attempt itself is for the DPO to see.
		q.Category = in.Categories[0]
		d, err := s.disclosureFor(ctx, q, Verdict{Reason: ReasonNotStatutoryRole, OrganisationID: m.OrganisationID}, ChannelAPI)
		if err != nil {
			return StatutoryAccess{}, err
		}
		d.Outcome, d.Condition, d.About, d.Note = OutcomeRefused, in.Condition, a.ID, reason
		if _, err := s.record(ctx, d); err != nil {
			return StatutoryAccess{}, err
		}
		return StatutoryAccess{}, fmt.Errorf("%w: your role does not hold a statutory duty in Sayso", ErrForbidden)
	}
	var grants []Grant
	for _, c := range a.Categories {
		g := Grant{ID: NewID("g"), ProfessionalID: profID, OrganisationID: m.OrganisationID, YoungPersonID: ypID, Category: c,
			Purpose: a.Purpose, GrantedBy: profID, RequestID: a.ID, CreatedAt: now, Until: a.Until, Statutory: true, Condition: a.Condition}
		q.Category = c
		d, err := s.disclosureFor(ctx, q, Verdict{GrantID: g.ID, OrganisationID: m.OrganisationID}, ChannelAPI)
		if err != nil {
			return StatutoryAccess{}, err
		}
		d.Outcome, d.Condition, d.About, d.Note, d.Reason = OutcomeOpened, a.Condition, a.ID, reason, ""
		if _, err := s.record(ctx, d); err != nil {
			return StatutoryAccess{}, err
		}
		grants = append(grants, g)
	}
	if _, err := s.updatePolicy(ctx, ypID, func(p *Policy) error {
		p.Grants = append(p.Grants, grants...)
		return nil
	}); err != nil {
		return StatutoryAccess{}, err
	}
	return a, nil
}

// checkStatutory decides a question for a statutory purpose: the
// professional must hold a statutory role now and have opened access that
// is still running. The young person's grants and blocks do not apply.
func (s *Service) checkStatutory(ctx context.Context, q Question) (Verdict, error) {
	ms, err := s.store.MembershipsOf(ctx, q.ProfessionalID)
	if err != nil {
		return Verdict{}, err
	}
	var orgs []string
	ever, anyActive := false, false
	for _, m := range ms {
		if m.Role == RoleDPO {
			continue
		}
		ever = true
		if m.ActiveAt(q.At) && (q.OrganisationID == "" || q.OrganisationID == m.OrganisationID) {
			anyActive = true
			if s.isStatutoryRole(m.Role) {
				orgs = append(orgs, m.OrganisationID)
			}
		}
	}
	switch {
	case !ever:
		return Verdict{Reason: ReasonNotProfessional, Statutory: true}, nil
	case !anyActive:
		return Verdict{Reason: ReasonMembershipEnded, OrganisationID: q.OrganisationID, Statutory: true}, nil
	case len(orgs) == 0:
		return Verdict{Reason: ReasonNotStatutoryRole, Statutory: true}, nil
	}
	pol, err := s.store.GetPolicy(ctx, q.YoungPersonID)
	if err != nil {
		return Verdict{}, err
	}
	for _, g := range pol.Grants {
		if g.Statutory && g.ProfessionalID == q.ProfessionalID && slices.Contains(orgs, g.OrganisationID) && g.ActiveAt(q.At) &&
			s.catalogue.Contains(g.Category, q.Category) && s.purposeCovers(g.Purpose, q.Purpose) {
			return Verdict{Allowed: true, Reason: ReasonGranted, GrantID: g.ID, OrganisationID: g.OrganisationID,
				Statutory: true, Condition: g.Condition, AccessID: g.RequestID}, nil
		}
	}
	return Verdict{Reason: ReasonNoStatutoryAccess, OrganisationID: orgs[0], Statutory: true}, nil
}

// TellingDelay is a DPO's decision to delay telling a young person about a
// statutory access, until ReviewBy unless renewed.
type TellingDelay struct {
	LogIndex  int64
	AccessID  string
	DecidedBy string
	DecidedAt time.Time
	ReviewBy  time.Time
	Reason    string
}

// StatutoryReview is one statutory access as its organisation's DPO reviews it.
type StatutoryReview struct {
	Access     StatutoryAccess
	Reads      []Logged
	Reviewed   bool
	ReviewedBy string
	ReviewedAt time.Time
	// Delays are every delay decision, oldest first; the last one stands.
	Delays []TellingDelay
}

// Hidden reports whether the young person is not yet told at now. Only a
// recorded delay decision hides an access, and only until its review date.
func (r StatutoryReview) Hidden(now time.Time) bool {
	return len(r.Delays) > 0 && now.Before(r.Delays[len(r.Delays)-1].ReviewBy)
}

// orgEntries reads all of an organisation's log entries matching f.
func (s *Service) orgEntries(ctx context.Context, orgID string, f DisclosureFilter) ([]Logged, error) {
	const page = 500
	var out []Logged
	for after := int64(-1); ; {
		es, err := s.store.DisclosuresBy(ctx, orgID, f, after, page)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			d, err := DecodeDisclosure(ctx, s.sealer, e.Data)
			if err != nil {
				return nil, err
			}
			out = append(out, Logged{Index: e.Index, Disclosure: d})
			after = e.Index
		}
		if len(es) < page {
			return out, nil
		}
	}
}

// StatutoryReviews lists an organisation's statutory accesses, newest first,
// built from its log entries, for its DPO. Anyone else gets ErrNotFound.
func (s *Service) StatutoryReviews(ctx context.Context, actorID, orgID string) ([]StatutoryReview, error) {
	if ok, err := s.isDPO(ctx, actorID, orgID); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNotFound
	}
	return s.statutoryReviews(ctx, orgID, "")
}

// known are policies the caller has read already (optional).
func (s *Service) statutoryReviews(ctx context.Context, orgID, ypID string, known ...Policy) ([]StatutoryReview, error) {
	byID := map[string]*StatutoryReview{}
	var order []string
	opened, err := s.orgEntries(ctx, orgID, DisclosureFilter{Outcome: OutcomeOpened, YoungPersonID: ypID})
	if err != nil {
		return nil, err
	}
	for _, l := range opened {
		d := l.Disclosure
		r, ok := byID[d.About]
		if !ok {
			r = &StatutoryReview{Access: StatutoryAccess{ID: d.About, ProfessionalID: d.ActorID, OrganisationID: d.OrganisationID,
				YoungPersonID: d.YoungPersonID, Purpose: d.Purpose, Condition: d.Condition, Reason: d.Note, OpenedAt: d.At}}
			byID[d.About] = r
			order = append(order, d.About)
		}
		r.Access.Categories = append(r.Access.Categories, d.Category)
	}
	if len(order) == 0 {
		return []StatutoryReview{}, nil
	}
	for _, p := range s.catalogue.Purposes {
		if !p.Statutory {
			continue
		}
		// Reads through Sayso, and holder systems told yes.
		for _, o := range []Outcome{OutcomeDisclosed, OutcomePermitted} {
			reads, err := s.orgEntries(ctx, orgID, DisclosureFilter{Purpose: p.ID, Outcome: o, YoungPersonID: ypID})
			if err != nil {
				return nil, err
			}
			for _, l := range reads {
				if r, ok := byID[l.Disclosure.About]; ok {
					r.Reads = append(r.Reads, l)
				}
			}
		}
	}
	delays, err := s.orgEntries(ctx, orgID, DisclosureFilter{Outcome: OutcomeDelayed, YoungPersonID: ypID})
	if err != nil {
		return nil, err
	}
	for _, l := range delays {
		if r, ok := byID[l.Disclosure.About]; ok {
			d := l.Disclosure
			r.Delays = append(r.Delays, TellingDelay{LogIndex: l.Index, AccessID: d.About, DecidedBy: d.ActorID, DecidedAt: d.At, ReviewBy: d.ReviewBy, Reason: d.Note})
		}
	}
	reviewed, err := s.orgEntries(ctx, orgID, DisclosureFilter{Outcome: OutcomeReviewed, YoungPersonID: ypID})
	if err != nil {
		return nil, err
	}
	for _, l := range reviewed {
		if r, ok := byID[l.Disclosure.About]; ok && !r.Reviewed {
			r.Reviewed, r.ReviewedBy, r.ReviewedAt = true, l.Disclosure.ActorID, l.Disclosure.At
		}
	}
	// The grants say until when the access runs: one policy read per young person.
	policies := map[string]Policy{}
	for _, p := range known {
		policies[p.YoungPersonID] = p
	}
	out := make([]StatutoryReview, 0, len(order))
	for i := len(order) - 1; i >= 0; i-- {
		r := byID[order[i]]
		pol, ok := policies[r.Access.YoungPersonID]
		if !ok {
			if pol, err = s.store.GetPolicy(ctx, r.Access.YoungPersonID); err != nil {
				return nil, err
			}
			policies[r.Access.YoungPersonID] = pol
		}
		for _, g := range pol.Grants {
			if g.Statutory && g.RequestID == r.Access.ID && g.Until.After(r.Access.Until) {
				r.Access.Until = g.Until
			}
		}
		out = append(out, *r)
	}
	return out, nil
}

// StatutoryReview returns one of an organisation's statutory accesses for
// its DPO; anyone else, or an unknown access, gets ErrNotFound.
func (s *Service) StatutoryReview(ctx context.Context, actorID, orgID, accessID string) (StatutoryReview, error) {
	if ok, err := s.isDPO(ctx, actorID, orgID); err != nil {
		return StatutoryReview{}, err
	} else if !ok {
		return StatutoryReview{}, ErrNotFound
	}
	return s.statutoryReview(ctx, orgID, accessID)
}

// statutoryReview returns one access of orgID, or ErrNotFound.
func (s *Service) statutoryReview(ctx context.Context, orgID, accessID string) (StatutoryReview, error) {
	rs, err := s.statutoryReviews(ctx, orgID, "")
	if err != nil {
		return StatutoryReview{}, err
	}
	for _, r := range rs {
		if r.Access.ID == accessID {
			return r, nil
		}
	}
	return StatutoryReview{}, ErrNotFound
}

// decisionEntry is the log entry for a DPO's decision about an access.
func (s *Service) decisionEntry(ctx context.Context, dpoID string, r StatutoryReview, o Outcome, note string) (Disclosure, error) {
	d := Disclosure{At: Millis(s.now()), ActorID: dpoID, ActorRole: RoleDPO, OrganisationID: r.Access.OrganisationID,
		YoungPersonID: r.Access.YoungPersonID, Category: r.Access.Categories[0], Purpose: r.Access.Purpose, Channel: ChannelPortal,
		Outcome: o, Statutory: true, Condition: r.Access.Condition, About: r.Access.ID, Note: note}
	if p, ok := s.catalogue.Purpose(d.Purpose); ok {
		d.LawfulBasis = p.Basis
	}
	person, err := s.store.GetPerson(ctx, dpoID)
	if err != nil {
		return Disclosure{}, err
	}
	d.ActorName = person.Name
	return d, nil
}

// DelayTelling records the DPO's decision not to tell the young person about
// a statutory access until reviewBy (at most 28 days ahead). Renewing is
// another decision with a new reason, made while the delay runs. The
// decision is in the log before it has any effect. Errors: ErrNotFound,
// ErrInvalid, ErrConflict (they have been told already), ErrUnavailable.
func (s *Service) DelayTelling(ctx context.Context, dpoID, orgID, accessID, reason string, reviewBy time.Time) (TellingDelay, error) {
	if ok, err := s.isDPO(ctx, dpoID, orgID); err != nil {
		return TellingDelay{}, err
	} else if !ok {
		return TellingDelay{}, ErrNotFound
	}
	now := Millis(s.now())
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return TellingDelay{}, Invalid("reason", "write why telling them now would put them or someone else at risk")
	}
	if len(reason) > maxReasonLength {
		return TellingDelay{}, Invalid("reason", "is too long")
	}
	reviewBy = Millis(reviewBy)
	if !reviewBy.After(now) {
		return TellingDelay{}, Invalid("reviewBy", "must be in the future")
	}
	if reviewBy.Sub(now) > MaxTellingDelay {
		return TellingDelay{}, Invalid("reviewBy", "can be at most 28 days from now")
	}
	r, err := s.statutoryReview(ctx, orgID, accessID)
	if err != nil {
		return TellingDelay{}, err
	}
	// Once a read has been shown to them, it cannot be taken back: a delay
	// is decided when the access is opened, before anything is read.
	if len(r.Reads) > 0 && !r.Hidden(now) {
		return TellingDelay{}, fmt.Errorf("%w: they have already been told about this access", ErrConflict)
	}
	d, err := s.decisionEntry(ctx, dpoID, r, OutcomeDelayed, reason)
	if err != nil {
		return TellingDelay{}, err
	}
	d.ReviewBy = reviewBy
	idx, err := s.record(ctx, d)
	if err != nil {
		return TellingDelay{}, err
	}
	return TellingDelay{LogIndex: idx, AccessID: accessID, DecidedBy: dpoID, DecidedAt: d.At, ReviewBy: reviewBy, Reason: reason}, nil
}

// MarkReviewed records that the DPO has reviewed a statutory access, with
// optional words, in the log. Errors: ErrNotFound, ErrInvalid, ErrConflict
// (reviewed already), ErrUnavailable.
func (s *Service) MarkReviewed(ctx context.Context, dpoID, orgID, accessID, note string) (int64, error) {
	if ok, err := s.isDPO(ctx, dpoID, orgID); err != nil {
		return 0, err
	} else if !ok {
		return 0, ErrNotFound
	}
	note = strings.TrimSpace(note)
	if len(note) > maxReasonLength {
		return 0, Invalid("note", "is too long")
	}
	r, err := s.statutoryReview(ctx, orgID, accessID)
	if err != nil {
		return 0, err
	}
	if r.Reviewed {
		return 0, fmt.Errorf("%w: this access has been reviewed already", ErrConflict)
	}
	d, err := s.decisionEntry(ctx, dpoID, r, OutcomeReviewed, note)
	if err != nil {
		return 0, err
	}
	return s.record(ctx, d)
}

// hiddenAccesses returns the statutory accesses about ypID that the young
// person is not to be told of yet, for the organisations named.
func (s *Service) hiddenAccesses(ctx context.Context, ypID string, orgs []string, pol Policy) (map[string]bool, error) {
	hidden := map[string]bool{}
	now := s.now()
	for _, org := range orgs {
		rs, err := s.statutoryReviews(ctx, org, ypID, pol)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.Hidden(now) {
				hidden[r.Access.ID] = true
			}
		}
	}
	return hidden, nil
}

// HasStatutoryDuty reports whether profID works now in a role the operator
// marks as holding a statutory duty.
func (s *Service) HasStatutoryDuty(ctx context.Context, profID string) (bool, error) {
	m, ok, err := s.activeMembership(ctx, profID, s.now())
	if err != nil || !ok {
		return false, err
	}
	return s.isStatutoryRole(m.Role), nil
}
