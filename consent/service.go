package consent

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Rules are the settings an operator chooses.
type Rules struct {
	// DecideAge is the age from which a young person decides for themselves
	// (default 13); a competence record can lower it for one person.
	DecideAge int
	// StatutoryRoles are the roles the operator marks as holding a
	// statutory duty: only they may open statutory access.
	StatutoryRoles []Role
}

// DefaultRules are the rules Sayso starts with: local authority social
// workers hold the duty to make child protection enquiries.
func DefaultRules() Rules {
	return Rules{DecideAge: 13, StatutoryRoles: []Role{RoleSocialWorker}}
}

// Service applies Sayso's rules over a Store. It holds no state of its own
// beyond its dependencies, so any number of instances can share one store.
type Service struct {
	store     Store
	enforcer  Enforcer
	log       DisclosureLog
	sealer    Sealer
	receipts  ReceiptSigner
	catalogue Catalogue
	rules     Rules
	now       func() time.Time
}

// NewService returns a Service. now is the clock (time.Now in production).
func NewService(store Store, enforcer Enforcer, log DisclosureLog, sealer Sealer, receipts ReceiptSigner, catalogue Catalogue, rules Rules, now func() time.Time) *Service {
	return &Service{store: store, enforcer: enforcer, log: log, sealer: sealer, receipts: receipts, catalogue: catalogue, rules: rules, now: now}
}

// Catalogue returns the categories and purposes in use.
func (s *Service) Catalogue() Catalogue { return s.catalogue }

// RoleKind is one of the ways a person uses Sayso.
type RoleKind string

const (
	KindYoungPerson  RoleKind = "young-person"
	KindFamily       RoleKind = "family-member"
	KindProfessional RoleKind = "professional"
	KindDPO          RoleKind = "dpo"
	KindOperator     RoleKind = "operator"
)

// PersonRole is one role a person holds; organisation roles name the organisation.
type PersonRole struct {
	Kind         RoleKind
	Organisation Organisation // set for professionals and DPOs
	Role         Role         // set for professionals and DPOs
}

// ActsFor names a young person someone may decide for.
type ActsFor struct {
	YoungPerson  Person
	Relationship string // "self" for the young person themselves
}

// Me is who a signed-in person is in Sayso.
type Me struct {
	Person  Person
	Roles   []PersonRole
	ActsFor []ActsFor
	// Sees lists young people who decide for themselves and chose to let
	// this family member see part of their information (FamilyRule).
	Sees []FamilyView
}

// FamilyView is a young person a family member may see part of.
type FamilyView struct {
	YoungPerson  Person
	Relationship string
	Act          bool // may also answer requests and change sharing, within what they see
}

// HasRole reports whether me holds a role of kind k.
func (m Me) HasRole(k RoleKind) bool {
	for _, r := range m.Roles {
		if r.Kind == k {
			return true
		}
	}
	return false
}

// Identify returns the person signed in as subject. ErrNotFound means Sayso
// does not know them.
func (s *Service) Identify(ctx context.Context, subject string) (Person, error) {
	return s.store.PersonBySubject(ctx, subject)
}

// Me describes the person with id: their roles (active memberships only) and
// the young people they may act for. ErrNotFound if unknown.
func (s *Service) Me(ctx context.Context, personID string) (Me, error) {
	p, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		return Me{}, err
	}
	now := s.now()
	me := Me{Person: p}
	if p.IsYoungPerson() {
		me.Roles = append(me.Roles, PersonRole{Kind: KindYoungPerson})
		ok, err := s.decidesForSelf(ctx, p, now)
		if err != nil {
			return Me{}, err
		}
		if ok {
			me.ActsFor = append(me.ActsFor, ActsFor{YoungPerson: p, Relationship: "self"})
		}
	}
	links, err := s.store.ChildrenOf(ctx, p.ID)
	if err != nil {
		return Me{}, err
	}
	if len(links) > 0 {
		me.Roles = append(me.Roles, PersonRole{Kind: KindFamily})
	}
	for _, l := range links {
		child, err := s.store.GetPerson(ctx, l.YoungPersonID)
		if err != nil {
			return Me{}, fmt.Errorf("family link to %s: %w", l.YoungPersonID, err)
		}
		self, err := s.decidesForSelf(ctx, child, now)
		if err != nil {
			return Me{}, err
		}
		if l.CanAct && !self {
			me.ActsFor = append(me.ActsFor, ActsFor{YoungPerson: child, Relationship: l.Relationship})
		}
		if self {
			pol, err := s.store.GetPolicy(ctx, child.ID)
			if err != nil {
				return Me{}, err
			}
			for _, r := range pol.FamilyRules {
				if r.FamilyID == p.ID && len(r.See) > 0 {
					me.Sees = append(me.Sees, FamilyView{YoungPerson: child, Relationship: l.Relationship, Act: r.Act})
				}
			}
		}
	}
	ms, err := s.store.MembershipsOf(ctx, p.ID)
	if err != nil {
		return Me{}, err
	}
	for _, m := range ms {
		if !m.ActiveAt(now) {
			continue
		}
		org, err := s.store.GetOrganisation(ctx, m.OrganisationID)
		if err != nil {
			return Me{}, fmt.Errorf("membership %s: %w", m.ID, err)
		}
		kind := KindProfessional
		if m.Role == RoleDPO {
			kind = KindDPO
		}
		me.Roles = append(me.Roles, PersonRole{Kind: kind, Organisation: org, Role: m.Role})
	}
	if p.Operator {
		me.Roles = append(me.Roles, PersonRole{Kind: KindOperator})
	}
	return me, nil
}

// decidesForSelf applies the age and competence rule.
func (s *Service) decidesForSelf(ctx context.Context, yp Person, now time.Time) (bool, error) {
	if yp.AgeOn(now) >= s.rules.DecideAge {
		return true, nil
	}
	pol, err := s.store.GetPolicy(ctx, yp.ID)
	if err != nil {
		return false, err
	}
	return s.decidesWith(yp, pol, now), nil
}

// decidesWith is decidesForSelf with the young person's policy in hand.
func (s *Service) decidesWith(yp Person, pol Policy, now time.Time) bool {
	if yp.AgeOn(now) >= s.rules.DecideAge {
		return true
	}
	// The latest assessment stands: a later "not yet" overrides an earlier yes.
	var latest *Competence
	for i := range pol.Competence {
		if latest == nil || pol.Competence[i].RecordedAt.After(latest.RecordedAt) {
			latest = &pol.Competence[i]
		}
	}
	return latest != nil && latest.Competent
}

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return errors.Join(ErrUnavailable, err)
	}
	return nil
}
