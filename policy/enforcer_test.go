package policy_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"sayso/consent"
	"sayso/internal/storetestenv"
	"sayso/policy"
)

// t0 is the moment every question in these tests is asked about, unless a
// test moves it; times are whole milliseconds, as the store keeps them.
var t0 = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)

func newEnforcer(tb testing.TB, store consent.Store, maxPeople int) *policy.Enforcer {
	tb.Helper()
	e, err := policy.NewEnforcer(store, consent.DefaultCatalogue(), maxPeople)
	if err != nil {
		tb.Fatalf("policy.NewEnforcer() = %v, want nil", err)
	}
	return e
}

// activeGrant is a grant in force from an hour before t0 for a day.
func activeGrant(yp, prof, category, purpose string) consent.Grant {
	return consent.Grant{ID: "g-" + yp + "-" + prof + "-" + category + "-" + purpose, ProfessionalID: prof, YoungPersonID: yp,
		Category: category, Purpose: purpose, GrantedBy: yp, CreatedAt: t0.Add(-time.Hour), Until: t0.Add(24 * time.Hour)}
}

// setPolicy stores p as the young person's next version, straight through
// the store (as another server instance would), and returns that version.
func setPolicy(tb testing.TB, store consent.Store, p consent.Policy) int64 {
	tb.Helper()
	ctx := context.Background()
	v, err := store.PolicyVersion(ctx, p.YoungPersonID)
	if err != nil {
		tb.Fatalf("PolicyVersion(%s) = %v, want nil", p.YoungPersonID, err)
	}
	p.Version = v + 1
	if err := store.PutPolicy(ctx, p); err != nil {
		tb.Fatalf("PutPolicy(%s v%d) = %v, want nil", p.YoungPersonID, p.Version, err)
	}
	return p.Version
}

// rel writes an offset as +1h0m0s or -1ms.
func rel(d time.Duration) string {
	if d < 0 {
		return d.String()
	}
	return "+" + d.String()
}

func allowed(tb testing.TB, e *policy.Enforcer, q consent.Question) bool {
	tb.Helper()
	if q.At.IsZero() {
		q.At = t0
	}
	ok, err := e.Allowed(context.Background(), q)
	if err != nil {
		tb.Fatalf("Allowed(%+v) = %v, want no error", q, err)
	}
	return ok
}

func TestEnforcer_CategoryHierarchy(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 10)
		setPolicy(t, store, consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{activeGrant("amara", "sam", "contact", "home-visit")}})
		tests := []struct {
			category string
			want     bool
		}{
			{"contact", true},
			{"address", true}, // inside contact
			{"phone", true},   // inside contact
			{"education", false},
			{"health", false},
			{"social-care", false},
			{"my-story", false},
		}
		for _, tt := range tests {
			q := consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: tt.category, Purpose: "home-visit"}
			if got := allowed(t, e, q); got != tt.want {
				t.Errorf("Allowed(sam, %s, home-visit) under a contact grant = %v, want %v", tt.category, got, tt.want)
			}
		}

		// The hierarchy only widens downwards: a grant on address is not one on contact.
		setPolicy(t, store, consent.Policy{YoungPersonID: "leo", Grants: []consent.Grant{activeGrant("leo", "sam", "address", "home-visit")}})
		for cat, want := range map[string]bool{"address": true, "contact": false, "phone": false} {
			q := consent.Question{YoungPersonID: "leo", ProfessionalID: "sam", Category: cat, Purpose: "home-visit"}
			if got := allowed(t, e, q); got != want {
				t.Errorf("Allowed(sam, %s, home-visit) under an address grant = %v, want %v", cat, got, want)
			}
		}
	})
}

func TestEnforcer_PurposeAndProfessionalMustMatch(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 10)
		setPolicy(t, store, consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{activeGrant("amara", "sam", "address", "home-visit")}})
		tests := []struct {
			prof, purpose string
			want          bool
		}{
			{"sam", "home-visit", true},
			{"sam", "plan-support", false},
			{"sam", "education-support", false},
			{"sam", "curiosity", false}, // not a purpose at all
			{"priya", "home-visit", false},
			{"", "home-visit", false},
		}
		for _, tt := range tests {
			q := consent.Question{YoungPersonID: "amara", ProfessionalID: tt.prof, Category: "address", Purpose: tt.purpose}
			if got := allowed(t, e, q); got != tt.want {
				t.Errorf("Allowed(%q, address, %s) = %v, want %v", tt.prof, tt.purpose, got, tt.want)
			}
		}
		// Another young person's grant says nothing about Amara.
		setPolicy(t, store, consent.Policy{YoungPersonID: "leo", Grants: []consent.Grant{activeGrant("leo", "priya", "address", "home-visit")}})
		if got := allowed(t, e, consent.Question{YoungPersonID: "amara", ProfessionalID: "priya", Category: "address", Purpose: "home-visit"}); got {
			t.Errorf("Allowed(priya, amara's address) with a grant from Leo only = true, want false")
		}
	})
}

func TestEnforcer_BlockOverridesGrant(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 10)
		setPolicy(t, store, consent.Policy{YoungPersonID: "amara",
			Grants: []consent.Grant{activeGrant("amara", "sam", "contact", "home-visit"), activeGrant("amara", "priya", "education", "education-support")},
			Blocks: []consent.Block{{ProfessionalID: "sam", CreatedBy: "amara", CreatedAt: t0.Add(-time.Minute)}},
		})
		for _, cat := range []string{"contact", "address", "phone"} {
			if got := allowed(t, e, consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: cat, Purpose: "home-visit"}); got {
				t.Errorf("Allowed(blocked sam, %s, home-visit) with a grant = true, want false", cat)
			}
		}
		if got := allowed(t, e, consent.Question{YoungPersonID: "amara", ProfessionalID: "priya", Category: "education", Purpose: "education-support"}); !got {
			t.Errorf("Allowed(priya, education) when only sam is blocked = false, want true")
		}
		// Lifting the block brings the grant back.
		setPolicy(t, store, consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{activeGrant("amara", "sam", "contact", "home-visit")}})
		if got := allowed(t, e, consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: "address", Purpose: "home-visit"}); !got {
			t.Errorf("Allowed(sam, address) after unblocking = false, want true")
		}
	})
}

func TestEnforcer_ExpiryHonouredWhenCached(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 10)
		g := activeGrant("amara", "sam", "address", "home-visit")
		g.Until = t0.Add(time.Hour)
		version := setPolicy(t, store, consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{g}})
		q := consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: "address", Purpose: "home-visit"}
		tests := []struct {
			at   time.Time
			want bool
		}{
			{t0, true}, // builds and caches the enforcer
			{t0.Add(59 * time.Minute), true},
			{g.Until.Add(-time.Millisecond), true},
			{g.Until, false}, // Until is the first moment it no longer holds
			{g.Until.Add(time.Hour), false},
		}
		for _, tt := range tests {
			q.At = tt.at
			if got := allowed(t, e, q); got != tt.want {
				t.Errorf("Allowed(sam, address) at Until%s with the cached version = %v, want %v", rel(tt.at.Sub(g.Until)), got, tt.want)
			}
		}
		if v, err := store.PolicyVersion(context.Background(), "amara"); err != nil || v != version {
			t.Fatalf("PolicyVersion(amara) = %d, %v, want %d (nothing may have changed it)", v, err, version)
		}
		if n := e.Cached(); n != 1 {
			t.Errorf("Cached() = %d, want 1", n)
		}
	})
}

func TestEnforcer_FutureGrantStartsOnTime(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 10)
		g := activeGrant("amara", "sam", "address", "home-visit")
		g.CreatedAt, g.Until = t0.Add(time.Hour), t0.Add(2*time.Hour)
		setPolicy(t, store, consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{g}})
		q := consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: "address", Purpose: "home-visit"}
		for _, tt := range []struct {
			at   time.Time
			want bool
		}{{t0, false}, {t0.Add(90 * time.Minute), true}, {t0.Add(3 * time.Hour), false}} {
			q.At = tt.at
			if got := allowed(t, e, q); got != tt.want {
				t.Errorf("Allowed(sam, address) at t0%s for a grant from t0+1h to t0+2h = %v, want %v", rel(tt.at.Sub(t0)), got, tt.want)
			}
		}
	})
}

func TestEnforcer_VersionChangeInvalidatesCache(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		// Two enforcers over one store stand for two server instances.
		a, b := newEnforcer(t, store, 10), newEnforcer(t, store, 10)
		q := consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: "address", Purpose: "home-visit"}
		g := activeGrant("amara", "sam", "address", "home-visit")

		steps := []struct {
			name   string
			policy consent.Policy
			want   bool
		}{
			{"Granted", consent.Policy{Grants: []consent.Grant{g}}, true},
			{"Stopped", consent.Policy{Grants: []consent.Grant{func() consent.Grant { s := g; s.StoppedAt, s.StoppedBy = t0.Add(-time.Second), "amara"; return s }()}}, false},
			{"GrantedAgain", consent.Policy{Grants: []consent.Grant{g}}, true},
			{"Removed", consent.Policy{}, false},
		}
		for _, st := range steps {
			st.policy.YoungPersonID = "amara"
			v := setPolicy(t, store, st.policy)
			for name, e := range map[string]*policy.Enforcer{"A": a, "B": b} {
				if got := allowed(t, e, q); got != st.want {
					t.Errorf("%s: enforcer %s Allowed(sam, address) after PutPolicy v%d = %v, want %v", st.name, name, v, got, st.want)
				}
				// Asking again answers from the cache, and must agree.
				if got := allowed(t, e, q); got != st.want {
					t.Errorf("%s: enforcer %s Allowed(sam, address) asked again at v%d = %v, want %v", st.name, name, v, got, st.want)
				}
			}
		}
	})
}

func TestEnforcer_CacheIsBounded(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 3)
		var people []string
		for i := range 10 {
			yp := fmt.Sprintf("yp-%02d", i)
			people = append(people, yp)
			setPolicy(t, store, consent.Policy{YoungPersonID: yp, Grants: []consent.Grant{activeGrant(yp, "sam", "address", "home-visit")}})
		}
		for round := range 2 {
			for _, yp := range people {
				if got := allowed(t, e, consent.Question{YoungPersonID: yp, ProfessionalID: "sam", Category: "address", Purpose: "home-visit"}); !got {
					t.Errorf("round %d: Allowed(sam, %s's address) = false, want true", round, yp)
				}
				if got := allowed(t, e, consent.Question{YoungPersonID: yp, ProfessionalID: "priya", Category: "address", Purpose: "home-visit"}); got {
					t.Errorf("round %d: Allowed(priya, %s's address) = true, want false", round, yp)
				}
				if n := e.Cached(); n > 3 {
					t.Fatalf("Cached() after asking about %s = %d, want <= 3", yp, n)
				}
			}
		}
		if n := e.Cached(); n != 3 {
			t.Errorf("Cached() after asking about 10 young people = %d, want 3", n)
		}

		// A size below one still caches one young person.
		one := newEnforcer(t, store, 0)
		for _, yp := range people[:4] {
			allowed(t, one, consent.Question{YoungPersonID: yp, ProfessionalID: "sam", Category: "address", Purpose: "home-visit"})
		}
		if n := one.Cached(); n != 1 {
			t.Errorf("NewEnforcer(maxPeople=0).Cached() after 4 young people = %d, want 1", n)
		}
	})
}

func TestEnforcer_NoPolicyMeansNo(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 10)
		if got := allowed(t, e, consent.Question{YoungPersonID: "nobody", ProfessionalID: "sam", Category: "address", Purpose: "home-visit"}); got {
			t.Errorf("Allowed(sam, address of a young person with no policy) = true, want false")
		}
	})
}

func TestEnforcer_StoreFailureIsAnError(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 10)
		setPolicy(t, store, consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{activeGrant("amara", "sam", "address", "home-visit")}})
		q := consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: "address", Purpose: "home-visit", At: t0}
		if !allowed(t, e, q) {
			t.Fatalf("Allowed(sam, address) before the store closed = false, want true")
		}
		store.Close()
		// Even with the answer cached, a decision that cannot read the version
		// must not be a yes.
		if got, err := e.Allowed(context.Background(), q); got || err == nil {
			t.Errorf("Allowed(sam, address) with the store closed = %v, %v, want false and an error", got, err)
		}
	})
}

// TestEnforcer_ConcurrentDecisionsSeeEveryChange asks from several
// goroutines while the policy flips between granted and stopped. A seqlock
// tells which answers are certain: a decision that began and ended while the
// policy stood still must match it.
func TestEnforcer_ConcurrentDecisionsSeeEveryChange(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		e := newEnforcer(t, store, 2)
		g := activeGrant("amara", "sam", "address", "home-visit")
		stopped := g
		stopped.StoppedAt, stopped.StoppedBy = t0.Add(-time.Second), "amara"
		setPolicy(t, store, consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{g}})
		setPolicy(t, store, consent.Policy{YoungPersonID: "leo", Grants: []consent.Grant{activeGrant("leo", "sam", "address", "home-visit")}})

		var seq atomic.Int64 // even: steady, granted when seq/2 is even; odd: changing
		var done atomic.Bool
		var checked, wrong atomic.Int64
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !done.Load() && i < 5000; i++ {
					yp := "amara"
					if (w+i)%3 == 0 {
						yp = "leo" // keeps the two-entry cache churning
					}
					s1 := seq.Load()
					got, err := e.Allowed(context.Background(), consent.Question{YoungPersonID: yp, ProfessionalID: "sam", Category: "address", Purpose: "home-visit", At: t0})
					s2 := seq.Load()
					if err != nil {
						t.Errorf("Allowed() = %v, want no error", err)
						return
					}
					if yp == "leo" {
						if !got {
							wrong.Add(1)
						}
						continue
					}
					if s1%2 == 1 || s1 != s2 {
						continue
					}
					checked.Add(1)
					if want := (s1/2)%2 == 0; got != want {
						wrong.Add(1)
						t.Errorf("Allowed(sam, amara's address) during steady state %d = %v, want %v", s1, got, want)
					}
				}
			}()
		}
		for i := range 60 {
			seq.Add(1)
			p := consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{stopped}}
			if i%2 == 1 {
				p.Grants = []consent.Grant{g}
			}
			setPolicy(t, store, p)
			seq.Add(1)
			time.Sleep(time.Millisecond)
		}
		done.Store(true)
		wg.Wait()
		if checked.Load() == 0 {
			t.Errorf("decisions made during a steady state = 0, want some (the test checked nothing)")
		}
		if n := wrong.Load(); n > 0 {
			t.Errorf("wrong answers = %d, want 0", n)
		}
	})
}

func TestAdapter_RefusesWholeStoreAndWrites(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		a := policy.NewAdapter(store, consent.DefaultCatalogue())
		m, err := model.NewModelFromFile("model.conf")
		if err != nil {
			t.Fatalf("model.NewModelFromFile(model.conf) = %v", err)
		}
		if !a.IsFiltered() {
			t.Errorf("IsFiltered() = false, want true")
		}
		if err := a.LoadPolicy(m); err == nil {
			t.Errorf("LoadPolicy() = nil, want an error (loading everyone's grants is refused)")
		}
		if err := a.SavePolicy(m); err == nil {
			t.Errorf("SavePolicy() = nil, want an error (the adapter is read-only)")
		}
		if err := a.AddPolicy("p", "p", []string{"sam", "address", "home-visit", "allow"}); err == nil {
			t.Errorf("AddPolicy() = nil, want an error")
		}
		if err := a.RemovePolicy("p", "p", []string{"sam", "address", "home-visit", "allow"}); err == nil {
			t.Errorf("RemovePolicy() = nil, want an error")
		}
		if err := a.RemoveFilteredPolicy("p", "p", 0, "sam"); err == nil {
			t.Errorf("RemoveFilteredPolicy() = nil, want an error")
		}
		if err := a.LoadFilteredPolicy(m, "amara"); err == nil {
			t.Errorf("LoadFilteredPolicy(filter of type string) = nil, want an error")
		}
		if p, _ := store.GetPolicy(context.Background(), "amara"); p.Version != 0 {
			t.Errorf("GetPolicy(amara).Version after refused writes = %d, want 0", p.Version)
		}
	})
}

// TestAdapter_ThroughCasbin uses the adapter the way Casbin expects: a
// filtered load of one young person, and refusals of whole-store calls.
func TestAdapter_ThroughCasbin(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		setPolicy(t, store, consent.Policy{YoungPersonID: "amara", Grants: []consent.Grant{activeGrant("amara", "sam", "contact", "home-visit")}})
		setPolicy(t, store, consent.Policy{YoungPersonID: "leo", Grants: []consent.Grant{activeGrant("leo", "priya", "education", "education-support")}})
		m, err := model.NewModelFromFile("model.conf")
		if err != nil {
			t.Fatalf("model.NewModelFromFile(model.conf) = %v", err)
		}
		enf, err := casbin.NewEnforcer(m, policy.NewAdapter(store, consent.DefaultCatalogue()))
		if err != nil {
			t.Fatalf("casbin.NewEnforcer() = %v, want nil (a filtered adapter loads nothing at first)", err)
		}
		if err := enf.LoadFilteredPolicy(policy.Filter{YoungPersonID: "amara", At: t0}); err != nil {
			t.Fatalf("LoadFilteredPolicy(amara) = %v, want nil", err)
		}
		for _, tt := range []struct {
			sub, obj, act string
			want          bool
		}{
			{"sam", "address", "home-visit", true},
			{"sam", "phone", "home-visit", true},
			{"priya", "education", "education-support", false}, // Leo's grant, not loaded
		} {
			// Casbin sees a professional as professional@organisation; these
			// test grants name no organisation.
			if got, err := enf.Enforce(policy.Subject(tt.sub, ""), tt.obj, tt.act); err != nil || got != tt.want {
				t.Errorf("Enforce(%s, %s, %s) after loading amara = %v, %v, want %v", tt.sub, tt.obj, tt.act, got, err, tt.want)
			}
		}
		lines, err := enf.GetPolicy()
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 {
			t.Errorf("policy lines after loading amara = %v, want only her one grant", lines)
		}
		if err := enf.LoadPolicy(); err == nil {
			t.Errorf("casbin LoadPolicy() = nil, want an error")
		}
		if err := enf.SavePolicy(); err == nil {
			t.Errorf("casbin SavePolicy() = nil, want an error")
		}
	})
}
