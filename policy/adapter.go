package policy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"sayso/consent"
)

// Filter selects one young person's policy lines as they stand at a moment.
type Filter struct {
	YoungPersonID string
	At            time.Time
}

// Adapter turns a young person's stored grants and blocks into Casbin lines.
// It only ever loads one young person at a time and never writes: grants
// change through the consent service, one atomic record per young person.
type Adapter struct {
	store     consent.Store
	catalogue consent.Catalogue

	// Set by the last load: until when what was loaded holds. The policy
	// itself is not kept: every cached enforcer keeps its adapter, and a
	// copy of the policy there cost 4 KB per cached young person.
	validUntil time.Time
}

// NewAdapter returns an adapter over store.
func NewAdapter(store consent.Store, catalogue consent.Catalogue) *Adapter {
	return &Adapter{store: store, catalogue: catalogue}
}

var _ persist.FilteredAdapter = (*Adapter)(nil)

var errWholeStore = errors.New("policy: loading every young person's policy is refused; use LoadFilteredPolicy with a Filter")

// LoadPolicy would load everyone's grants, which is exactly what Sayso must
// never do.
func (a *Adapter) LoadPolicy(model.Model) error { return errWholeStore }

// IsFiltered is always true: this adapter only loads filtered policy.
func (a *Adapter) IsFiltered() bool { return true }

// LoadFilteredPolicy loads the lines of filter.(Filter).YoungPersonID that
// are in force at filter.At.
func (a *Adapter) LoadFilteredPolicy(m model.Model, filter any) error {
	f, ok := filter.(Filter)
	if !ok {
		return fmt.Errorf("policy: filter is %T, want policy.Filter", filter)
	}
	pol, err := a.store.GetPolicy(context.Background(), f.YoungPersonID)
	if err != nil {
		return err
	}
	return a.load(m, pol, f.At)
}

// load writes pol's lines into m and records how long they hold.
func (a *Adapter) load(m model.Model, pol consent.Policy, at time.Time) error {
	a.validUntil = time.Time{}
	for _, c := range a.catalogue.Categories {
		if c.Parent != "" {
			if err := persist.LoadPolicyArray([]string{"g", c.ID, c.Parent}, m); err != nil {
				return err
			}
		}
	}
	for _, p := range a.catalogue.Purposes {
		if p.Within != "" {
			if err := persist.LoadPolicyArray([]string{"g2", p.ID, p.Within}, m); err != nil {
				return err
			}
		}
	}
	for _, g := range pol.Grants {
		// Statutory access is decided by consent's statutory rule, never by
		// consent grants, so it never lifts a block or widens a grant.
		if g.Statutory {
			continue
		}
		if !g.ActiveAt(at) {
			// A grant that starts later would make the cache hold too long;
			// none do today (grants start when made), but be exact.
			if g.StoppedAt.IsZero() && at.Before(g.CreatedAt) {
				a.shorten(g.CreatedAt)
			}
			continue
		}
		a.shorten(g.Until)
		if err := persist.LoadPolicyArray([]string{"p", Subject(g.ProfessionalID, g.OrganisationID), g.Category, g.Purpose, "allow"}, m); err != nil {
			return err
		}
	}
	for _, b := range pol.Blocks {
		// A block holds wherever the professional works.
		if err := persist.LoadPolicyArray([]string{"p", b.ProfessionalID + "@*", "*", "*", "deny"}, m); err != nil {
			return err
		}
	}
	return nil
}

// Subject is a professional as Casbin sees them: who, and where they work.
func Subject(professionalID, organisationID string) string {
	return professionalID + "@" + organisationID
}

func (a *Adapter) shorten(t time.Time) {
	if a.validUntil.IsZero() || t.Before(a.validUntil) {
		a.validUntil = t
	}
}

var errReadOnly = errors.New("policy: the adapter is read-only; change grants through the consent service")

// SavePolicy is refused: saving would mean rewriting stored policy wholesale.
func (a *Adapter) SavePolicy(model.Model) error { return errReadOnly }

// AddPolicy is refused; see SavePolicy.
func (a *Adapter) AddPolicy(string, string, []string) error { return errReadOnly }

// RemovePolicy is refused; see SavePolicy.
func (a *Adapter) RemovePolicy(string, string, []string) error { return errReadOnly }

// RemoveFilteredPolicy is refused; see SavePolicy.
func (a *Adapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }
