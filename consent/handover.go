package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StartHandover ends a professional's sharing with ypID at their
// organisation now, leaves their note for the young person, and asks the
// young person whether to share the same with successorID, a colleague.
// Nobody gets access until the young person says yes. Errors: ErrNotFound
// (no such young person, or nothing is shared with the professional),
// ErrForbidden (not a professional now, or the successor is not a current
// colleague), ErrInvalid (no successor, note too long).
func (s *Service) StartHandover(ctx context.Context, profID, ypID, successorID, note string) (Handover, error) {
	now := Millis(s.now())
	m, ok, err := s.activeMembership(ctx, profID, now)
	if err != nil {
		return Handover{}, err
	}
	if !ok {
		return Handover{}, fmt.Errorf("%w: only a professional working with an organisation can hand over", ErrForbidden)
	}
	if yp, err := s.store.GetPerson(ctx, ypID); err != nil || !yp.IsYoungPerson() {
		return Handover{}, ErrNotFound
	}
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return Handover{}, err
	}
	mine := func(g Grant) bool {
		return g.ProfessionalID == profID && g.OrganisationID == m.OrganisationID && !g.Statutory && g.ActiveAt(now)
	}
	// Only someone the young person shares with has something to hand over.
	if !slices.ContainsFunc(pol.Grants, mine) {
		return Handover{}, ErrNotFound
	}
	if successorID == "" || successorID == profID {
		return Handover{}, Invalid("successorId", "choose the colleague who is taking over")
	}
	sm, ok, err := s.activeMembership(ctx, successorID, now)
	if err != nil {
		return Handover{}, err
	}
	if !ok || sm.OrganisationID != m.OrganisationID {
		// Who works elsewhere is not the asker's business: a refusal, not a hint.
		return Handover{}, fmt.Errorf("%w: you can only hand over to someone working at your organisation now", ErrForbidden)
	}
	note = strings.TrimSpace(note)
	if len(note) > maxReasonLength {
		return Handover{}, Invalid("note", "is too long")
	}
	h := Handover{ID: NewID("ho"), FromID: profID, OrganisationID: m.OrganisationID, SuccessorID: successorID, CreatedAt: now}
	sealed, err := s.sealText(ctx, ypID, "handover-note|"+h.ID, note)
	if err != nil {
		return Handover{}, err
	}
	if _, err := s.updatePolicy(ctx, ypID, func(p *Policy) error {
		h.Shares = nil
		for i, g := range p.Grants {
			if !mine(g) {
				continue
			}
			p.Grants[i].StoppedAt, p.Grants[i].StoppedBy = now, profID
			h.Shares = append(h.Shares, HandoverShare{Category: g.Category, Purpose: g.Purpose, Until: g.Until})
		}
		stored := h
		stored.Note = sealed
		p.Handovers = append(p.Handovers, stored)
		return nil
	}); err != nil {
		return Handover{}, err
	}
	h.Note = note
	return h, nil
}

// seesHandover reports whether the actor may see a handover: a family
// member only when it is about nothing withheld from them (its note may
// speak of it), so a note-only handover is for the young person.
func (a access) seesHandover(s *Service, h Handover) bool {
	if !a.family {
		return true
	}
	if len(h.Shares) == 0 {
		return false
	}
	for _, sh := range h.Shares {
		if !a.sees(s, sh.Category) {
			return false
		}
	}
	return true
}

// Handovers lists ypID's handovers, waiting ones first, then newest first,
// with their notes, for the young person and those who may act for them.
func (s *Service) Handovers(ctx context.Context, actorID, ypID string) ([]Handover, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return nil, err
	}
	out := []Handover{}
	for _, h := range pol.Handovers {
		if !a.seesHandover(s, h) {
			continue
		}
		if h.Note, err = s.openText(ctx, ypID, "handover-note|"+h.ID, h.Note); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	slices.SortStableFunc(out, func(x, y Handover) int {
		if (x.Answer == "") != (y.Answer == "") {
			if x.Answer == "" {
				return -1
			}
			return 1
		}
		return y.CreatedAt.Compare(x.CreatedAt)
	})
	return out, nil
}

// AnswerHandover records the young person's answer about sharing with the
// successor: accept the suggested sharing, change it (shares then says
// what to share), or decline. Errors: ErrNotFound, ErrForbidden,
// ErrConflict (answered already, or the successor has left), ErrInvalid.
func (s *Service) AnswerHandover(ctx context.Context, actorID, ypID, handoverID string, answer HandoverAnswer, shares []HandoverShare) (Handover, []Grant, error) {
	a, err := s.mayDecide(ctx, actorID, ypID)
	if err != nil {
		return Handover{}, nil, err
	}
	now := Millis(s.now())
	var done Handover
	var grants []Grant
	_, err = s.updatePolicy(ctx, ypID, func(p *Policy) error {
		i := slices.IndexFunc(p.Handovers, func(h Handover) bool { return h.ID == handoverID })
		if i < 0 {
			return ErrNotFound
		}
		h := &p.Handovers[i]
		if !a.seesHandover(s, *h) {
			return ErrNotFound
		}
		if h.Answer != "" {
			return fmt.Errorf("%w: this has been answered already", ErrConflict)
		}
		var give []HandoverShare
		switch answer {
		case HandoverAccepted:
			give = h.Shares
		case HandoverChanged:
			give = shares
		case HandoverDeclined:
		default:
			return Invalid("answer", "say accepted, changed or declined")
		}
		grants = grants[:0]
		for _, sh := range give {
			if !a.sees(s, sh.Category) {
				return Invalid("shares", "you can only share what you can see")
			}
			until := sh.Until
			if !until.After(now) {
				until = time.Time{}
			}
			g := Grant{ID: NewID("g"), ProfessionalID: h.SuccessorID, YoungPersonID: ypID, Category: sh.Category, Purpose: sh.Purpose,
				GrantedBy: actorID, RequestID: h.ID, CreatedAt: now, Until: Millis(until)}
			if err := s.checkNewGrant(ctx, &g, now); err != nil {
				return err
			}
			if g.OrganisationID != h.OrganisationID {
				return fmt.Errorf("%w: the person taking over no longer works there", ErrConflict)
			}
			grants = append(grants, g)
		}
		if answer == HandoverChanged && len(grants) == 0 {
			answer = HandoverDeclined
		}
		h.Answer, h.AnsweredBy, h.AnsweredAt = answer, actorID, now
		p.Grants = append(p.Grants, grants...)
		done = *h
		return nil
	})
	if err != nil {
		return Handover{}, nil, err
	}
	if done.Note, err = s.openText(ctx, ypID, "handover-note|"+done.ID, done.Note); err != nil {
		return Handover{}, nil, err
	}
	return done, grants, nil
}

// EndMembership records that someone has left an organisation, now: every
// decision from then on refuses them, and their grants there are stopped. The organisation's DPO or an
// operator may do it. Errors: ErrNotFound, ErrConflict (ended already).
func (s *Service) EndMembership(ctx context.Context, actorID, orgID, membershipID string) (Membership, error) {
	allowed, err := s.isDPO(ctx, actorID, orgID)
	if err != nil {
		return Membership{}, err
	}
	if !allowed {
		if p, err := s.store.GetPerson(ctx, actorID); err == nil && p.Operator {
			allowed = true
		}
	}
	if !allowed {
		return Membership{}, ErrNotFound
	}
	ms, err := s.store.MembershipsIn(ctx, orgID)
	if err != nil {
		return Membership{}, err
	}
	i := slices.IndexFunc(ms, func(m Membership) bool { return m.ID == membershipID })
	if i < 0 {
		return Membership{}, ErrNotFound
	}
	m := ms[i]
	now := Millis(s.now())
	if !m.ActiveAt(now) {
		return Membership{}, fmt.Errorf("%w: this person has already left", ErrConflict)
	}
	if err := s.store.EndMembership(ctx, m.ID, now); err != nil {
		return Membership{}, err
	}
	m.EndedAt = now
	// Every decision refuses them from now on; their grants also show as
	// ended to the young people they worked with. Grants to them at this
	// organisation are only for young people it holds information about.
	ids, err := s.store.YoungPeopleHeldBy(ctx, orgID)
	if err != nil {
		return m, err
	}
	for _, yp := range ids {
		if err := s.stopGrantsOf(ctx, yp, m.PersonID, orgID, actorID, now); err != nil {
			return m, err
		}
	}
	return m, nil
}

// stopGrantsOf stops a professional's running grants (statutory ones too)
// at one organisation for one young person; no write when there are none.
func (s *Service) stopGrantsOf(ctx context.Context, ypID, profID, orgID, by string, now time.Time) error {
	running := func(g Grant) bool { return g.ProfessionalID == profID && g.OrganisationID == orgID && g.ActiveAt(now) }
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil || !slices.ContainsFunc(pol.Grants, running) {
		return err
	}
	_, err = s.updatePolicy(ctx, ypID, func(p *Policy) error {
		for i, g := range p.Grants {
			if running(g) {
				p.Grants[i].StoppedAt, p.Grants[i].StoppedBy = now, by
			}
		}
		return nil
	})
	return err
}

// Colleagues lists the people working at the professional's organisation now
// (not as DPO, not themselves), by name: who a handover can go to.
func (s *Service) Colleagues(ctx context.Context, profID string) ([]Person, error) {
	now := s.now()
	m, ok, err := s.activeMembership(ctx, profID, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	ms, err := s.store.MembershipsIn(ctx, m.OrganisationID)
	if err != nil {
		return nil, err
	}
	out := []Person{}
	for _, x := range ms {
		if x.Role == RoleDPO || !x.ActiveAt(now) || x.PersonID == profID || slices.ContainsFunc(out, func(p Person) bool { return p.ID == x.PersonID }) {
			continue
		}
		p, err := s.store.GetPerson(ctx, x.PersonID)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Person) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
