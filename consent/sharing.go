package consent

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Limits on grants and requests.
const (
	DefaultGrantLength = 183 * 24 * time.Hour // about six months
	MaxGrantLength     = 2 * 366 * 24 * time.Hour
	RequestLifetime    = 14 * 24 * time.Hour
	maxReasonLength    = 2000
	maxMessageLength   = 1000
)

// NewID returns a random identifier with a readable prefix.
func NewID(prefix string) string {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return prefix + "-" + strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// access is what an actor may do about one young person.
type access struct {
	yp     Person
	view   bool // see their holdings, grants and requests
	decide bool // grant, stop, answer requests, block
	// family is set when the actor is a family member; see then lists
	// the categories they may see (nil for the young person: everything).
	family bool
	see    []string
	// limited is a family member of a young person who decides for
	// themselves, seeing (and perhaps acting on) only what they chose.
	limited bool
}

// sees reports whether the actor may see information of category.
func (a access) sees(s *Service, category string) bool {
	if !a.family {
		return true
	}
	for _, c := range a.see {
		if s.catalogue.Contains(c, category) {
			return true
		}
	}
	return false
}

// seesAll reports whether the actor may see every one of categories.
func (a access) seesAll(s *Service, categories []string) bool {
	for _, c := range categories {
		if !a.sees(s, c) {
			return false
		}
	}
	return true
}

// seesStatutory reports whether the actor may be told of statutory access:
// child protection work is social care information.
func (a access) seesStatutory(s *Service) bool { return a.sees(s, "social-care") }

// DefaultFamilySee is what a family member sees without a rule from the
// young person: everything but social care (withheld from family by
// default, DPA 2018 Schedule 3) and the young person's own story.
func (s *Service) DefaultFamilySee() []string {
	var out []string
	for _, c := range s.catalogue.Categories {
		if c.Parent == "" && c.ID != "social-care" && c.ID != StoryCategory {
			out = append(out, c.ID)
		}
	}
	return out
}

// accessTo works out what actorID may do about ypID. Someone with no
// relationship gets ErrNotFound, the same answer as for a young person who
// does not exist. A family member acts for a young person who does not yet
// decide for themselves; once they do, the young person's rule for that
// family member says what they may see and do.
func (s *Service) accessTo(ctx context.Context, actorID, ypID string) (access, error) {
	yp, err := s.store.GetPerson(ctx, ypID)
	if err != nil || !yp.IsYoungPerson() {
		return access{}, ErrNotFound
	}
	if actorID == ypID {
		self, err := s.decidesForSelf(ctx, yp, s.now())
		if err != nil {
			return access{}, err
		}
		return access{yp: yp, view: true, decide: self}, nil
	}
	// Everyone else must be family: look that up before the policy, so a
	// stranger costs no more than one more read.
	links, err := s.store.FamilyOf(ctx, ypID)
	if err != nil {
		return access{}, err
	}
	i := slices.IndexFunc(links, func(l FamilyLink) bool { return l.FamilyID == actorID })
	if i < 0 {
		return access{}, ErrNotFound
	}
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return access{}, err
	}
	self := s.decidesWith(yp, pol, s.now())
	a := access{yp: yp, family: true, see: s.DefaultFamilySee()}
	j := slices.IndexFunc(pol.FamilyRules, func(r FamilyRule) bool { return r.FamilyID == actorID })
	if j >= 0 {
		a.see = pol.FamilyRules[j].See
	}
	switch {
	case !self && links[i].CanAct:
		a.view, a.decide = true, true
	case self && j >= 0 && len(a.see) > 0:
		a.view, a.decide, a.limited = true, pol.FamilyRules[j].Act, true
	default:
		return access{}, ErrNotFound
	}
	return a, nil
}

func (s *Service) mayDecide(ctx context.Context, actorID, ypID string) (access, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return a, err
	}
	if !a.decide {
		return a, fmt.Errorf("%w: someone else decides for this young person for now", ErrForbidden)
	}
	return a, nil
}

// activeMembership returns the professional's first active membership.
func (s *Service) activeMembership(ctx context.Context, personID string, at time.Time) (Membership, bool, error) {
	ms, err := s.store.MembershipsOf(ctx, personID)
	if err != nil {
		return Membership{}, false, err
	}
	for _, m := range ms {
		if m.ActiveAt(at) && m.Role != RoleDPO {
			return m, true, nil
		}
	}
	return Membership{}, false, nil
}

// Holdings lists what organisations hold about ypID, for those who may see it.
// The young person's own story is not in this list (see Story).
func (s *Service) Holdings(ctx context.Context, actorID, ypID string) ([]Holding, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	hs, err := s.store.HoldingsOf(ctx, ypID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(hs, func(h Holding) bool { return isStory(h) || !a.sees(s, h.Category) }), nil
}

// Grants lists ypID's grants, newest first.
func (s *Service) Grants(ctx context.Context, actorID, ypID string) ([]Grant, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return nil, err
	}
	var hidden map[string]bool
	if slices.ContainsFunc(pol.Grants, func(g Grant) bool { return g.Statutory }) {
		if hidden, err = s.hiddenIn(ctx, pol); err != nil {
			return nil, err
		}
	}
	// Statutory access the DPO has delayed telling them about stays out
	// of every list until the review date, like its reads.
	out := slices.DeleteFunc(slices.Clone(pol.Grants), func(g Grant) bool {
		return !a.sees(s, g.Category) || (g.Statutory && (!a.seesStatutory(s) || hidden[g.RequestID]))
	})
	slices.SortStableFunc(out, func(a, b Grant) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// NewGrant is what a young person (or someone acting for them) shares.
type NewGrant struct {
	ProfessionalID string
	Category       string
	Purpose        string
	Until          time.Time // zero: DefaultGrantLength from now
}

// Grant shares one category with one professional for one purpose. Errors:
// ErrNotFound (no such young person for this actor), ErrForbidden (the actor
// may not decide), ErrInvalid (with the field).
func (s *Service) Grant(ctx context.Context, actorID, ypID string, in NewGrant) (Grant, string, error) {
	a, err := s.mayDecide(ctx, actorID, ypID)
	if err != nil {
		return Grant{}, "", err
	}
	if !a.sees(s, in.Category) {
		return Grant{}, "", Invalid("category", "not a category you can share for them")
	}
	now := Millis(s.now())
	g := Grant{ID: NewID("g"), ProfessionalID: in.ProfessionalID, YoungPersonID: ypID, Category: in.Category, Purpose: in.Purpose, GrantedBy: actorID, CreatedAt: now, Until: Millis(in.Until)}
	if err := s.checkNewGrant(ctx, &g, now); err != nil {
		return Grant{}, "", err
	}
	if _, err := s.updatePolicy(ctx, ypID, func(p *Policy) error {
		p.Grants = append(p.Grants, g)
		return nil
	}); err != nil {
		return Grant{}, "", err
	}
	receipt, err := s.receipt(ctx, g, "given", now, actorID)
	return g, receipt, err
}

func (s *Service) checkNewGrant(ctx context.Context, g *Grant, now time.Time) error {
	if _, ok := s.catalogue.Category(g.Category); !ok {
		return Invalid("category", "not a category Sayso knows")
	}
	if p, ok := s.catalogue.Purpose(g.Purpose); !ok || p.Statutory {
		return Invalid("purpose", "not a purpose that can be shared for")
	}
	if g.Until.IsZero() {
		g.Until = now.Add(DefaultGrantLength)
	}
	if !g.Until.After(now) {
		return Invalid("until", "must be in the future")
	}
	if g.Until.Sub(now) > MaxGrantLength {
		return Invalid("until", "can be at most 2 years from now")
	}
	m, ok, err := s.activeMembership(ctx, g.ProfessionalID, now)
	if err != nil {
		return err
	} else if !ok {
		return Invalid("professionalId", "not a professional working with an organisation in Sayso")
	}
	g.OrganisationID = m.OrganisationID
	return nil
}

// StopGrant ends a grant now. The next decision anywhere sees it.
func (s *Service) StopGrant(ctx context.Context, actorID, ypID, grantID string) (Grant, string, error) {
	a, err := s.mayDecide(ctx, actorID, ypID)
	if err != nil {
		return Grant{}, "", err
	}
	now := Millis(s.now())
	var stopped Grant
	if _, err := s.updatePolicy(ctx, ypID, func(p *Policy) error {
		for i := range p.Grants {
			// Statutory access is not the young person's to stop.
			if p.Grants[i].ID != grantID || p.Grants[i].Statutory || !a.sees(s, p.Grants[i].Category) {
				continue
			}
			if !p.Grants[i].StoppedAt.IsZero() {
				return fmt.Errorf("%w: this sharing has already stopped", ErrConflict)
			}
			p.Grants[i].StoppedAt, p.Grants[i].StoppedBy = now, actorID
			stopped = p.Grants[i]
			return nil
		}
		return ErrNotFound
	}); err != nil {
		return Grant{}, "", err
	}
	receipt, err := s.receipt(ctx, stopped, "withdrawn", now, actorID)
	return stopped, receipt, err
}

// updatePolicy applies change to ypID's policy with compare-and-set,
// retrying when another writer got there first.
func (s *Service) updatePolicy(ctx context.Context, ypID string, change func(*Policy) error) (Policy, error) {
	for attempt := 0; attempt < 20; attempt++ {
		p, err := s.store.GetPolicy(ctx, ypID)
		if err != nil {
			return Policy{}, err
		}
		p.YoungPersonID = ypID
		if err := change(&p); err != nil {
			return Policy{}, err
		}
		p.Version++
		err = s.store.PutPolicy(ctx, p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Policy{}, err
		}
	}
	return Policy{}, fmt.Errorf("%w: too many concurrent changes", ErrUnavailable)
}

// Block stops a professional seeing anything about ypID, whatever the grants.
func (s *Service) Block(ctx context.Context, actorID, ypID, professionalID string) error {
	if a, err := s.mayDecide(ctx, actorID, ypID); err != nil {
		return err
	} else if a.limited {
		return fmt.Errorf("%w: only the young person can block someone", ErrForbidden)
	}
	now := Millis(s.now())
	_, err := s.updatePolicy(ctx, ypID, func(p *Policy) error {
		for _, b := range p.Blocks {
			if b.ProfessionalID == professionalID {
				return nil
			}
		}
		p.Blocks = append(p.Blocks, Block{ProfessionalID: professionalID, CreatedBy: actorID, CreatedAt: now})
		return nil
	})
	return err
}

// Unblock removes a block.
func (s *Service) Unblock(ctx context.Context, actorID, ypID, professionalID string) error {
	if a, err := s.mayDecide(ctx, actorID, ypID); err != nil {
		return err
	} else if a.limited {
		return fmt.Errorf("%w: only the young person can lift a block", ErrForbidden)
	}
	_, err := s.updatePolicy(ctx, ypID, func(p *Policy) error {
		p.Blocks = slices.DeleteFunc(p.Blocks, func(b Block) bool { return b.ProfessionalID == professionalID })
		return nil
	})
	return err
}

// RecordCompetence lets a professional who works with a young person record
// whether they can decide for themselves before the usual age.
func (s *Service) RecordCompetence(ctx context.Context, actorID, ypID string, competent bool, note string) error {
	now := Millis(s.now())
	if ok, err := s.worksWith(ctx, actorID, ypID, now); err != nil {
		return err
	} else if !ok {
		return ErrNotFound
	}
	if len(note) > maxReasonLength {
		return Invalid("note", "is too long")
	}
	// The professional's words about the young person are theirs to erase.
	sealed, err := s.sealText(ctx, ypID, fmt.Sprintf("competence|%d|%s", now.UnixMilli(), actorID), note)
	if err != nil {
		return err
	}
	_, err = s.updatePolicy(ctx, ypID, func(p *Policy) error {
		p.Competence = append(p.Competence, Competence{RecordedBy: actorID, RecordedAt: now, Competent: competent, Note: sealed})
		return nil
	})
	return err
}

// worksWith reports whether a professional has an active membership of an
// organisation that holds information about the young person.
func (s *Service) worksWith(ctx context.Context, profID, ypID string, at time.Time) (bool, error) {
	m, ok, err := s.activeMembership(ctx, profID, at)
	if err != nil || !ok {
		return false, err
	}
	hs, err := s.store.HoldingsOf(ctx, ypID)
	if err != nil {
		return false, err
	}
	for _, h := range hs {
		if h.OrganisationID == m.OrganisationID {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) receipt(ctx context.Context, g Grant, event string, at time.Time, actorID string) (string, error) {
	cat, _ := s.catalogue.Category(g.Category)
	pur, _ := s.catalogue.Purpose(g.Purpose)
	r := Receipt{
		ID: NewID("r"), IssuedAt: at.Unix(), Schema: "sayso-consent-receipt/1", RecordID: g.ID,
		Principal:  ReceiptParty{ID: g.YoungPersonID},
		Categories: []string{cat.ID},
		Purposes:   []ReceiptPurpose{{ID: pur.ID, Description: pur.Sentence, LawfulBasis: pur.Basis}},
		Validity:   ReceiptValidity{From: g.CreatedAt, Until: g.Until},
		Event:      ReceiptEvent{Type: event, State: "active", By: actorID, At: at},
	}
	if !g.StoppedAt.IsZero() {
		r.Event.State = "withdrawn"
	}
	if prof, err := s.store.GetPerson(ctx, g.ProfessionalID); err == nil {
		r.Recipient = ReceiptParty{ID: prof.ID, Name: prof.Name}
	}
	if ms, err := s.store.MembershipsOf(ctx, g.ProfessionalID); err == nil {
		for _, m := range ms {
			if m.OrganisationID == g.OrganisationID && m.Role != RoleDPO {
				r.Recipient.Role = string(m.Role)
			}
		}
	}
	if org, err := s.store.GetOrganisation(ctx, g.OrganisationID); err == nil {
		r.Controllers = []ReceiptParty{{ID: org.ID, Name: org.Name, Role: "controller"}}
	}
	return s.receipts.SignReceipt(r)
}

// MemberOf reports whether personID has ever been a member of orgID (ended
// memberships count: a holder system still asks about its leavers, and the
// answer will be a refusal).
func (s *Service) MemberOf(ctx context.Context, personID, orgID string) (bool, error) {
	ms, err := s.store.MembershipsOf(ctx, personID)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.OrganisationID == orgID {
			return true, nil
		}
	}
	return false, nil
}
