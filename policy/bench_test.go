package policy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"sayso/consent"
	"sayso/store/sqlite"
)

// The benchmark's world: every young person has ten grants, one to each of
// ten professionals, and every question is asked at benchAt, when all of
// them are in force. The contents are fixed, so a seeded database can be
// kept between runs.
var (
	benchAt         = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	benchCategories = []string{"contact", "education", "health", "social-care", "youth-work", "my-story", "address", "phone"}
	benchPurposes   = []string{"home-visit", "education-support", "health-care", "plan-support"}
)

const grantsPerPerson = 10

// benchCacheVersion names the kept 1e6 database; change it when the seeded
// contents change.
const benchCacheVersion = "v1"

func benchPerson(i int) string { return fmt.Sprintf("yp-%07d", i) }

func benchPolicy(i int) consent.Policy {
	yp := benchPerson(i)
	p := consent.Policy{YoungPersonID: yp, Version: 1}
	for j := range grantsPerPerson {
		p.Grants = append(p.Grants, consent.Grant{
			ID: fmt.Sprintf("g-%07d-%02d", i, j), ProfessionalID: fmt.Sprintf("pro-%d", j), YoungPersonID: yp,
			Category: benchCategories[j%len(benchCategories)], Purpose: benchPurposes[j%len(benchPurposes)], GrantedBy: yp,
			CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		})
	}
	return p
}

// benchQuestion is allowed by grant 0 (contact for home-visit) through the
// category hierarchy.
func benchQuestion(i int) consent.Question {
	return consent.Question{YoungPersonID: benchPerson(i), ProfessionalID: "pro-0", Category: "address", Purpose: "home-visit", At: benchAt}
}

// seedPolicies writes people policy records through Store.PutPolicy, from
// several goroutines (the store queues them on its one writer).
func seedPolicies(b *testing.B, store *sqlite.Store, people int) {
	ctx := context.Background()
	next := make(chan int, 1024)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := store.PutPolicy(ctx, benchPolicy(i)); err != nil && !errors.Is(err, consent.ErrConflict) {
					select {
					case errc <- fmt.Errorf("PutPolicy(%s): %w", benchPerson(i), err):
					default:
					}
				}
			}
		}()
	}
	for i := range people {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		b.Fatal(err)
	default:
	}
}

// benchStore returns a store holding grants grants (grants/10 young people).
// When keep is set the database is kept under os.TempDir() and reused by
// later runs; a file named "seeded" marks it complete.
func benchStore(b *testing.B, grants int, keep bool) *sqlite.Store {
	b.Helper()
	people := grants / grantsPerPerson
	dir := b.TempDir()
	if keep {
		dir = filepath.Join(os.TempDir(), "sayso-bench-policy", fmt.Sprintf("grants-%d-%s", grants, benchCacheVersion))
	}
	marker := filepath.Join(dir, "seeded")
	_, statErr := os.Stat(marker)
	seeded := keep && statErr == nil
	if keep && !seeded {
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	store, err := sqlite.Open(context.Background(), nil, filepath.Join(dir, "sayso.db"))
	if err != nil {
		b.Fatalf("sqlite.Open() = %v, want nil", err)
	}
	b.Cleanup(func() { store.Close() })
	if seeded {
		b.Logf("using the database seeded earlier in %s", dir)
		return store
	}
	start := time.Now()
	seedPolicies(b, store, people)
	b.Logf("seeded %d young people with %d grants each in %v", people, grantsPerPerson, time.Since(start).Round(time.Millisecond))
	if keep {
		if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return store
}

// BenchmarkEnforcer_Allowed measures one decision for a young person with
// ten grants, in a store of 1e3 or 1e6 grants. Every decision reads the
// young person's policy version from SQLite; "warm" answers from the cached
// enforcer, "cold" (cache of one, alternating between two young people)
// rebuilds it from the stored policy every time. "version-read-only" times
// just the version read, to show how much of a warm decision it is.
func BenchmarkEnforcer_Allowed(b *testing.B) {
	for _, size := range []struct {
		name   string
		grants int
		keep   bool
	}{
		{"grants=1e3", 1_000, false},
		{"grants=1e6", 1_000_000, true},
	} {
		b.Run(size.name, func(b *testing.B) {
			if size.grants > 1_000 && testing.Short() {
				b.Skip("-short: seeding 1e6 grants takes about a minute the first time")
			}
			store := benchStore(b, size.grants, size.keep)
			middle := size.grants / grantsPerPerson / 2

			b.Run("warm", func(b *testing.B) {
				e := newEnforcer(b, store, 20000)
				q := benchQuestion(middle)
				runDecisions(b, func(int) consent.Question { return q }, e.Allowed)
			})
			// The part of every decision that is one SQLite read, for scale.
			b.Run("version-read-only", func(b *testing.B) {
				q := benchQuestion(middle)
				runDecisions(b, func(int) consent.Question { return q }, func(ctx context.Context, q consent.Question) (bool, error) {
					v, err := store.PolicyVersion(ctx, q.YoungPersonID)
					return v == 1, err
				})
			})
			b.Run("cold", func(b *testing.B) {
				e := newEnforcer(b, store, 1)
				qs := []consent.Question{benchQuestion(middle), benchQuestion(middle + 1)}
				runDecisions(b, func(i int) consent.Question { return qs[i%2] }, e.Allowed)
				if n := e.Cached(); n != 1 {
					b.Errorf("Cached() = %d, want 1", n)
				}
			})
		})
	}
}

// runDecisions times allowed(question(i)) once per iteration and reports
// the median and 99th percentile as extra metrics.
func runDecisions(b *testing.B, question func(int) consent.Question, allowed func(context.Context, consent.Question) (bool, error)) {
	ctx := context.Background()
	for i := range 2 { // both answers must be yes, and the first call warms up
		if ok, err := allowed(ctx, question(i)); err != nil || !ok {
			b.Fatalf("Allowed(%+v) = %v, %v, want true", question(i), ok, err)
		}
	}
	took := make([]time.Duration, 0, 1<<21)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		start := time.Now()
		ok, err := allowed(ctx, question(i))
		took = append(took, time.Since(start))
		if err != nil || !ok {
			b.Fatalf("Allowed() = %v, %v, want true", ok, err)
		}
		i++
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns")
}
