package consent

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// FamilySee returns what each of ypID's family members may see now (their
// rule, or the defaults), for the young person and those acting for them.
// A family member learns only their own. Without a rule, a family member
// of a young person who decides for themselves sees nothing.
func (s *Service) FamilySee(ctx context.Context, actorID, ypID string) (map[string]FamilyRule, error) {
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
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return nil, err
	}
	out := map[string]FamilyRule{}
	for _, l := range links {
		if a.family && l.FamilyID != actorID {
			continue
		}
		r := FamilyRule{FamilyID: l.FamilyID, See: s.DefaultFamilySee(), Act: l.CanAct}
		if self {
			r = FamilyRule{FamilyID: l.FamilyID, See: []string{}}
		}
		if i := slices.IndexFunc(pol.FamilyRules, func(r FamilyRule) bool { return r.FamilyID == l.FamilyID }); i >= 0 {
			r = pol.FamilyRules[i]
		}
		out[l.FamilyID] = r
	}
	return out, nil
}

// SetFamilyRule records what one family member may see (categories) and
// whether they may answer requests and change sharing within it. Only a
// young person who decides for themselves sets it. Errors: ErrNotFound (no
// such family member), ErrForbidden, ErrInvalid.
func (s *Service) SetFamilyRule(ctx context.Context, actorID, ypID, familyID string, see []string, act bool) (FamilyRule, error) {
	if actorID != ypID {
		return FamilyRule{}, ErrNotFound
	}
	if _, err := s.mayDecide(ctx, actorID, ypID); err != nil {
		return FamilyRule{}, err
	}
	links, err := s.store.FamilyOf(ctx, ypID)
	if err != nil {
		return FamilyRule{}, err
	}
	if !slices.ContainsFunc(links, func(l FamilyLink) bool { return l.FamilyID == familyID }) {
		return FamilyRule{}, ErrNotFound
	}
	clean := []string{}
	for _, c := range see {
		if _, ok := s.catalogue.Category(c); !ok {
			return FamilyRule{}, Invalid("see", fmt.Sprintf("%q is not a category Sayso knows", c))
		}
		if !slices.Contains(clean, c) {
			clean = append(clean, c)
		}
	}
	r := FamilyRule{FamilyID: familyID, See: clean, Act: act && len(clean) > 0, SetBy: actorID, SetAt: Millis(s.now())}
	_, err = s.updatePolicy(ctx, ypID, func(p *Policy) error {
		p.FamilyRules = slices.DeleteFunc(p.FamilyRules, func(x FamilyRule) bool { return x.FamilyID == familyID })
		p.FamilyRules = append(p.FamilyRules, r)
		return nil
	})
	return r, err
}

// FamilyAction is one thing a family member did about a young person.
type FamilyAction struct {
	At       time.Time
	FamilyID string
	Sentence string
}

// FamilyActions lists what family members did about ypID, newest first,
// so the young person sees who did what. Only the young person sees it.
func (s *Service) FamilyActions(ctx context.Context, actorID, ypID string) ([]FamilyAction, error) {
	if actorID != ypID {
		return nil, ErrNotFound
	}
	if _, err := s.accessTo(ctx, actorID, ypID); err != nil {
		return nil, err
	}
	links, err := s.store.FamilyOf(ctx, ypID)
	if err != nil {
		return nil, err
	}
	who := map[string]string{}
	for _, l := range links {
		p, err := s.store.GetPerson(ctx, l.FamilyID)
		if err != nil {
			return nil, err
		}
		who[l.FamilyID] = fmt.Sprintf("%s (your %s)", p.Name, l.Relationship)
	}
	out := []FamilyAction{}
	if len(who) == 0 {
		return out, nil
	}
	name := func(id string) string {
		if p, err := s.store.GetPerson(ctx, id); err == nil {
			return p.Name
		}
		return "someone"
	}
	catName := func(id string) string {
		if c, ok := s.catalogue.Category(id); ok {
			return c.Name
		}
		return id
	}
	add := func(at time.Time, familyID, format string, args ...any) {
		out = append(out, FamilyAction{At: at, FamilyID: familyID,
			Sentence: fmt.Sprintf("%s %s on %s.", who[familyID], fmt.Sprintf(format, args...), ukDate(at))})
	}
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return nil, err
	}
	for _, g := range pol.Grants {
		if _, ok := who[g.GrantedBy]; ok && g.RequestID == "" {
			add(g.CreatedAt, g.GrantedBy, "shared %s with %s", catName(g.Category), name(g.ProfessionalID))
		}
		if _, ok := who[g.StoppedBy]; ok {
			add(g.StoppedAt, g.StoppedBy, "stopped sharing %s with %s", catName(g.Category), name(g.ProfessionalID))
		}
	}
	for _, h := range pol.Handovers {
		if _, ok := who[h.AnsweredBy]; ok {
			verb := "said yes to sharing with"
			if h.Answer == HandoverDeclined {
				verb = "said no to sharing with"
			}
			add(h.AnsweredAt, h.AnsweredBy, "%s %s, who took over from %s", verb, name(h.SuccessorID), name(h.FromID))
		}
	}
	rs, err := s.store.RequestsFor(ctx, ypID)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if _, ok := who[r.DecidedBy]; ok {
			verb := "said yes to"
			if r.Status == RequestDeclined {
				verb = "said no to"
			}
			add(r.DecidedAt, r.DecidedBy, "%s %s's request", verb, name(r.ProfessionalID))
		}
	}
	cs, err := s.store.ConcernsAbout(ctx, ypID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if _, ok := who[c.RaisedBy]; ok {
			add(c.CreatedAt, c.RaisedBy, "asked why someone looked at your information")
		}
	}
	slices.SortStableFunc(out, func(a, b FamilyAction) int { return b.At.Compare(a.At) })
	return out, nil
}

// VisibleCategories lists the categories the actor may see and share for
// ypID: all of them for the young person, their rule's for family.
func (s *Service) VisibleCategories(ctx context.Context, actorID, ypID string) ([]Category, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	var out []Category
	for _, c := range s.catalogue.Categories {
		if a.sees(s, c.ID) {
			out = append(out, c)
		}
	}
	return out, nil
}
