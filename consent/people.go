package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Worker is a professional in the role they hold at an organisation.
type Worker struct {
	Person       Person
	Role         Role
	Organisation Organisation
}

// RoleWords says what a role does in plain words: "a social worker".
func RoleWords(r Role) string {
	if w, ok := roleWords[r]; ok {
		return w
	}
	return "someone who works there"
}

// WorkerOf returns personID as a professional (their active non-DPO
// membership), or ErrNotFound if they are not one now.
func (s *Service) WorkerOf(ctx context.Context, personID string) (Worker, error) {
	p, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		return Worker{}, err
	}
	m, ok, err := s.activeMembership(ctx, personID, s.now())
	if err != nil {
		return Worker{}, err
	}
	if !ok {
		return Worker{Person: p}, ErrNotFound
	}
	org, err := s.store.GetOrganisation(ctx, m.OrganisationID)
	if err != nil {
		return Worker{}, err
	}
	return Worker{Person: p, Role: m.Role, Organisation: org}, nil
}

// WorkingWith lists the professionals who already work with ypID: those
// with an active membership (not as DPO) of an organisation that holds
// information about them, by organisation then name. For those who may see
// the young person's sharing.
func (s *Service) WorkingWith(ctx context.Context, actorID, ypID string) ([]Worker, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	hs, err := s.store.HoldingsOf(ctx, ypID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Worker
	seenOrg, seenPerson := map[string]bool{}, map[string]bool{}
	for _, h := range hs {
		// A family member learns nothing of places that hold only what is withheld from them.
		if isStory(h) || seenOrg[h.OrganisationID] || !a.sees(s, h.Category) {
			continue
		}
		seenOrg[h.OrganisationID] = true
		org, err := s.store.GetOrganisation(ctx, h.OrganisationID)
		if err != nil {
			return nil, err
		}
		ms, err := s.store.MembershipsIn(ctx, h.OrganisationID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.Role == RoleDPO || !m.ActiveAt(now) || seenPerson[m.PersonID] || m.PersonID == ypID {
				continue
			}
			p, err := s.store.GetPerson(ctx, m.PersonID)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			seenPerson[m.PersonID] = true
			out = append(out, Worker{Person: p, Role: m.Role, Organisation: org})
		}
	}
	slices.SortStableFunc(out, func(a, b Worker) int {
		if c := strings.Compare(a.Organisation.Name, b.Organisation.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Person.Name, b.Person.Name)
	})
	return out, nil
}

// FamilyMember is someone linked to a young person as family.
type FamilyMember struct {
	Person Person
	Link   FamilyLink
	// ActsNow is whether they decide for the young person today: they may
	// act, and the young person does not yet decide for themselves.
	ActsNow bool
}

// Family lists ypID's family members and what each can do, for the young
// person and those who may act for them.
func (s *Service) Family(ctx context.Context, actorID, ypID string) ([]FamilyMember, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	self, err := s.decidesForSelf(ctx, a.yp, s.now())
	if err != nil {
		return nil, err
	}
	links, err := s.store.FamilyOf(ctx, ypID)
	if err != nil {
		return nil, err
	}
	out := []FamilyMember{}
	for _, l := range links {
		p, err := s.store.GetPerson(ctx, l.FamilyID)
		if err != nil {
			return nil, fmt.Errorf("family link to %s: %w", l.FamilyID, err)
		}
		out = append(out, FamilyMember{Person: p, Link: l, ActsNow: l.CanAct && !self})
	}
	return out, nil
}

// DecidesForSelf reports whether the young person ypID decides for
// themselves today, for those who may see their sharing.
func (s *Service) DecidesForSelf(ctx context.Context, actorID, ypID string) (bool, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return false, err
	}
	return s.decidesForSelf(ctx, a.yp, s.now())
}

// ChangeGrantEnd moves the end date of a running grant. The new date must be
// in the future and at most MaxGrantLength from now. Errors: ErrNotFound,
// ErrForbidden (actor may not decide), ErrConflict (the sharing has ended),
// ErrInvalid (field "until").
func (s *Service) ChangeGrantEnd(ctx context.Context, actorID, ypID, grantID string, until time.Time) (Grant, string, error) {
	a, err := s.mayDecide(ctx, actorID, ypID)
	if err != nil {
		return Grant{}, "", err
	}
	now := Millis(s.now())
	until = Millis(until)
	if !until.After(now) {
		return Grant{}, "", Invalid("until", "must be in the future")
	}
	if until.Sub(now) > MaxGrantLength {
		return Grant{}, "", Invalid("until", "can be at most 2 years from now")
	}
	var changed Grant
	if _, err := s.updatePolicy(ctx, ypID, func(p *Policy) error {
		for i := range p.Grants {
			if p.Grants[i].ID != grantID || p.Grants[i].Statutory || !a.sees(s, p.Grants[i].Category) {
				continue
			}
			if !p.Grants[i].ActiveAt(now) {
				return fmt.Errorf("%w: this sharing has already ended", ErrConflict)
			}
			p.Grants[i].Until = until
			changed = p.Grants[i]
			return nil
		}
		return ErrNotFound
	}); err != nil {
		return Grant{}, "", err
	}
	receipt, err := s.receipt(ctx, changed, "modified", now, actorID)
	return changed, receipt, err
}

// YoungPeopleFor lists the young people a professional works with: those
// their organisation holds information about, by name.
func (s *Service) YoungPeopleFor(ctx context.Context, profID string) ([]Person, error) {
	m, ok, err := s.activeMembership(ctx, profID, s.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	ids, err := s.store.YoungPeopleHeldBy(ctx, m.OrganisationID)
	if err != nil {
		return nil, err
	}
	out := []Person{}
	for _, id := range ids {
		p, err := s.store.GetPerson(ctx, id)
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

// YoungPersonForWorker returns a young person a professional works with, and
// what is shared with that professional now, newest first. Anyone else
// gets ErrNotFound.
func (s *Service) YoungPersonForWorker(ctx context.Context, profID, ypID string) (Person, []Grant, error) {
	yp, err := s.store.GetPerson(ctx, ypID)
	if err != nil || !yp.IsYoungPerson() {
		return Person{}, nil, ErrNotFound
	}
	now := s.now()
	if ok, err := s.worksWith(ctx, profID, ypID, now); err != nil {
		return Person{}, nil, err
	} else if !ok {
		return Person{}, nil, ErrNotFound
	}
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return Person{}, nil, err
	}
	var out []Grant
	blocked := slices.ContainsFunc(pol.Blocks, func(b Block) bool { return b.ProfessionalID == profID })
	for _, g := range pol.Grants {
		if g.ProfessionalID == profID && g.ActiveAt(now) && !blocked {
			out = append(out, g)
		}
	}
	slices.SortStableFunc(out, func(a, b Grant) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return yp, out, nil
}

// RequestsByMe lists a professional's requests about everyone, newest first,
// brought up to date.
func (s *Service) RequestsByMe(ctx context.Context, profID string) ([]AccessRequest, error) {
	rs, err := s.store.RequestsBy(ctx, profID)
	if err != nil {
		return nil, err
	}
	return s.settle(ctx, rs)
}

// Person returns a person's record for display to someone already entitled
// to see their name (the caller decides that); ErrNotFound if unknown.
func (s *Service) Person(ctx context.Context, id string) (Person, error) {
	return s.store.GetPerson(ctx, id)
}

// Organisation returns an organisation; ErrNotFound if unknown.
func (s *Service) Organisation(ctx context.Context, id string) (Organisation, error) {
	return s.store.GetOrganisation(ctx, id)
}

// WorkersIn lists the people who are or were professionals at orgID (not
// as DPO), by name, for the organisation's DPO; anyone else gets ErrNotFound.
func (s *Service) WorkersIn(ctx context.Context, actorID, orgID string) ([]Person, error) {
	if ok, err := s.isDPO(ctx, actorID, orgID); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNotFound
	}
	ms, err := s.store.MembershipsIn(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := []Person{}
	seen := map[string]bool{}
	for _, m := range ms {
		if m.Role == RoleDPO || seen[m.PersonID] {
			continue
		}
		seen[m.PersonID] = true
		p, err := s.store.GetPerson(ctx, m.PersonID)
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

// HeldBy lists the ids of the young people orgID holds information about,
// for the organisation's DPO; anyone else gets ErrNotFound.
func (s *Service) HeldBy(ctx context.Context, actorID, orgID string) ([]string, error) {
	if ok, err := s.isDPO(ctx, actorID, orgID); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNotFound
	}
	return s.store.YoungPeopleHeldBy(ctx, orgID)
}
