// Package policy decides purpose-bound access with Casbin. The model is
// parsed once; each decision uses an enforcer holding only the asking young
// person's lines, kept in a bounded cache and rebuilt whenever that young
// person's policy version moves, on this instance or any other.
package policy

import (
	"container/list"
	"context"
	_ "embed"
	"fmt"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"sayso/consent"
)

//go:embed model.conf
var modelText string

// Enforcer answers consent.Question with Casbin.
type Enforcer struct {
	store     consent.Store
	catalogue consent.Catalogue
	base      model.Model // parsed once, copied per young person

	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	lru     *list.List // front = most recently used
}

type entry struct {
	youngPersonID string
	version       int64
	validUntil    time.Time // zero: until the version moves
	enforcer      *casbin.Enforcer
}

// NewEnforcer returns an enforcer caching at most maxPeople young people's
// policies.
func NewEnforcer(store consent.Store, catalogue consent.Catalogue, maxPeople int) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("policy: model.conf: %w", err)
	}
	if maxPeople < 1 {
		maxPeople = 1
	}
	return &Enforcer{store: store, catalogue: catalogue, base: m, max: maxPeople, entries: map[string]*list.Element{}, lru: list.New()}, nil
}

var _ consent.Enforcer = (*Enforcer)(nil)

// Allowed reports whether q's professional may see q's category for q's
// purpose under the young person's grants and blocks at q.At. It reads the
// young person's policy version on every call, so a change made anywhere is
// seen by the next decision.
func (e *Enforcer) Allowed(ctx context.Context, q consent.Question) (bool, error) {
	version, err := e.store.PolicyVersion(ctx, q.YoungPersonID)
	if err != nil {
		return false, err
	}
	enf, err := e.enforcerFor(ctx, q.YoungPersonID, version, q.At)
	if err != nil {
		return false, err
	}
	return enf.Enforce(Subject(q.ProfessionalID, q.OrganisationID), q.Category, q.Purpose)
}

// enforcerFor returns a cached enforcer if it matches version and is still
// valid at t, else builds one from the stored policy.
func (e *Enforcer) enforcerFor(ctx context.Context, ypID string, version int64, at time.Time) (*casbin.Enforcer, error) {
	e.mu.Lock()
	if el, ok := e.entries[ypID]; ok {
		en := el.Value.(*entry)
		if en.version == version && (en.validUntil.IsZero() || at.Before(en.validUntil)) {
			e.lru.MoveToFront(el)
			e.mu.Unlock()
			return en.enforcer, nil
		}
	}
	e.mu.Unlock()

	pol, err := e.store.GetPolicy(ctx, ypID)
	if err != nil {
		return nil, err
	}
	// The policy read may be newer than the version read; either way it is
	// at least as new, so it is safe to use now and to cache under its own
	// version.
	adapter := NewAdapter(e.store, e.catalogue)
	enf, err := casbin.NewEnforcer(e.base.Copy(), adapter)
	if err != nil {
		return nil, err
	}
	enf.EnableLog(false)
	enf.EnableAutoSave(false)
	if err := adapter.load(enf.GetModel(), pol, at); err != nil {
		return nil, err
	}
	if err := enf.BuildRoleLinks(); err != nil {
		return nil, err
	}
	e.put(&entry{youngPersonID: ypID, version: pol.Version, validUntil: adapter.validUntil, enforcer: enf})
	return enf, nil
}

func (e *Enforcer) put(en *entry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if el, ok := e.entries[en.youngPersonID]; ok {
		// Never replace a newer entry with an older one built concurrently.
		if el.Value.(*entry).version > en.version {
			return
		}
		el.Value = en
		e.lru.MoveToFront(el)
		return
	}
	e.entries[en.youngPersonID] = e.lru.PushFront(en)
	for e.lru.Len() > e.max {
		old := e.lru.Back()
		e.lru.Remove(old)
		delete(e.entries, old.Value.(*entry).youngPersonID)
	}
}

// Cached reports how many young people's enforcers are held, for tests and
// metrics.
func (e *Enforcer) Cached() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lru.Len()
}
