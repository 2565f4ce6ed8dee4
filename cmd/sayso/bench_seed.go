package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"sayso/consent"
	"sayso/demo"
	"sayso/internal/wire"
)

// The seeded world. Young person i holds ten grants, grant j to professional
// (i+j) mod P, on category benchCategories[j%8] for purpose
// benchPurposes[j%4], all in force for the whole run. There are P =
// max(20, people/10) professionals, so each has about a hundred grants and
// none has two about the same young person. The load is about a fixed
// number of active young people (--active), whatever the size of the store,
// so that only the store grows between runs. Even-numbered professionals work
// for the demo holder system's organisation, so it may ask about them.
// Every young person has their own key (their name is sealed under it), a
// policy record and two holdings.
var (
	benchCategories = []string{"contact", "education", "health", "social-care", "youth-work", "my-story", "address", "phone"}
	benchPurposes   = []string{"home-visit", "education-support", "health-care", "plan-support"}
	benchRoles      = []consent.Role{consent.RoleSocialWorker, consent.RoleTeacher, consent.RoleHealth, consent.RoleYouthWorker}
	benchOrgs       = []consent.Organisation{
		{ID: "bench-school", Name: "Bench School", Kind: consent.OrgSchool},
		{ID: "bench-health", Name: "Bench Health Trust", Kind: consent.OrgHealth},
		{ID: "bench-youth", Name: "Bench Youth Project", Kind: consent.OrgCharity},
	}
	// benchAsk is the category a read asks for, given the granted one: a
	// grant on "contact" is read as "address", through the hierarchy, where
	// every young person has a holding.
	benchAsk = map[string]string{"contact": "address"}
)

const (
	benchGrantsEach = 10
	benchSharers    = 1000 // active young people with sessions, who share and read their feed
)

// benchWorld is the seeded world and who may sign in to it.
type benchWorld struct {
	publicURL string
	people    int // young people
	pros      int // professionals
	at        time.Time
	// active are the young people the load is about, spread over the id
	// range; activePros are the professionals with grants about them, who
	// read; sharers are the active young people who sign in themselves.
	active     []int
	activePros []int
	sharers    []int

	mu       sync.Mutex
	sessions map[string]string // person id -> session cookie value
}

func newBenchWorld(grants, active int, publicURL string) *benchWorld {
	w := &benchWorld{publicURL: publicURL, people: grants / benchGrantsEach, at: time.Now(), sessions: map[string]string{}}
	w.pros = max(20, w.people/10)
	w.active = spread(w.people, active)
	w.sharers = spread(len(w.active), benchSharers)
	for n, at := range w.sharers {
		w.sharers[n] = w.active[at]
	}
	seen := map[int]bool{}
	for _, i := range w.active {
		for j := range benchGrantsEach {
			if k := w.proOf(i, j); !seen[k] {
				seen[k] = true
				w.activePros = append(w.activePros, k)
			}
		}
	}
	return w
}

// spread picks up to k of 0..n-1, evenly spaced over the range.
func spread(n, k int) []int {
	k = min(n, k)
	out := make([]int, k)
	for i := range out {
		out[i] = int(int64(i) * int64(n) / int64(k))
	}
	return out
}

func benchYP(i int) string  { return fmt.Sprintf("byp-%08d", i) }
func benchPro(k int) string { return fmt.Sprintf("bpro-%07d", k) }

// proOf is the professional young person i's grant j is to.
func (w *benchWorld) proOf(i, j int) int { return (i + j) % w.pros }

// hasGrant reports whether young person i has a grant to professional k.
func (w *benchWorld) hasGrant(i, k int) bool {
	return ((k-i)%w.pros+w.pros)%w.pros < benchGrantsEach
}

func (w *benchWorld) orgOf(k int) consent.Organisation {
	if k%2 == 0 {
		return consent.Organisation{ID: demo.HolderOrganisation}
	}
	return benchOrgs[(k/2)%len(benchOrgs)]
}

func (w *benchWorld) policy(i int) consent.Policy {
	yp := benchYP(i)
	p := consent.Policy{YoungPersonID: yp, Version: 1}
	created, until := consent.Millis(w.at.AddDate(0, -1, 0)), consent.Millis(w.at.AddDate(0, 10, 0))
	for j := range benchGrantsEach {
		p.Grants = append(p.Grants, consent.Grant{
			ID: fmt.Sprintf("g-%08d-%02d", i, j), ProfessionalID: benchPro(w.proOf(i, j)), OrganisationID: w.orgOf(w.proOf(i, j)).ID, YoungPersonID: yp,
			Category: benchCategories[j%len(benchCategories)], Purpose: benchPurposes[j%len(benchPurposes)],
			GrantedBy: yp, CreatedAt: created, Until: until,
		})
	}
	return p
}

func (w *benchWorld) holdings(i int) []consent.Holding {
	yp := benchYP(i)
	since := consent.Millis(w.at.AddDate(-1, 0, 0))
	other := []string{"education", "health", "social-care", "youth-work"}[i%4]
	org := benchOrgs[i%len(benchOrgs)]
	return []consent.Holding{
		{ID: "bh-" + yp + "-address", OrganisationID: demo.HolderOrganisation, YoungPersonID: yp, Category: "address", Since: since,
			System: "Riverside Council's social care records", Summary: fmt.Sprintf("%d Bench Road, Riverside, RV1 %dAB", i%500+1, i%9+1)},
		{ID: "bh-" + yp + "-" + other, OrganisationID: org.ID, YoungPersonID: yp, Category: other, Since: since,
			System: org.Name + "'s records", Summary: "Seeded by sayso bench: a short note of the kind a professional keeps, a sentence or two long."},
	}
}

// seed builds Sayso on a fresh dataDir exactly as serve --dev does (keys,
// demo data), then writes the world through the store: every young person's
// name and holdings are sealed under their own key, and their policy is one
// PutPolicy. Sessions for the active people come last, so none has idled
// out by the time the load starts. It returns the number of records written.
func (w *benchWorld) seed(ctx context.Context, dataDir string, quiet bool, stderr io.Writer) (int, error) {
	app, err := wire.Build(ctx, slog.New(slog.DiscardHandler), wire.Options{
		DataDir: dataDir, Dev: true, PublicURL: w.publicURL,
		SessionIdle: 30 * time.Minute, SessionAbsolute: 12 * time.Hour,
	})
	if err != nil {
		return 0, err
	}
	defer app.Close()
	store := app.Store
	var writes atomic.Int64
	do := func(err error) error {
		if err == nil {
			writes.Add(1)
		}
		return err
	}
	for _, o := range benchOrgs {
		o.CreatedAt = consent.Millis(w.at)
		if err := do(store.CreateOrganisation(ctx, o)); err != nil {
			return 0, err
		}
	}
	total := int64(w.pros + w.people)
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("seeding people"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("people"),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetVisibility(!quiet),
		progressbar.OptionSetPredictTime(true), progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }))

	started := consent.Millis(w.at.AddDate(-2, 0, 0))
	seedPro := func(k int) error {
		id := benchPro(k)
		if err := do(store.CreatePerson(ctx, consent.Person{ID: id, Name: fmt.Sprintf("Bench Professional %d", k), CreatedAt: consent.Millis(w.at)})); err != nil {
			return err
		}
		return do(store.CreateMembership(ctx, consent.Membership{ID: "bm-" + id, PersonID: id, OrganisationID: w.orgOf(k).ID,
			Role: benchRoles[k%len(benchRoles)], StartedAt: started}))
	}
	seedYoung := func(i int) error {
		id := benchYP(i)
		birth := consent.Millis(w.at.AddDate(-15, 0, -(i % 700)))
		if err := do(store.CreatePerson(ctx, consent.Person{ID: id, Name: fmt.Sprintf("Bench Young Person %d", i), BirthDate: birth, CreatedAt: consent.Millis(w.at)})); err != nil {
			return err
		}
		writes.Add(1) // the young person's key, made by sealing their name
		for _, h := range w.holdings(i) {
			if err := do(store.CreateHolding(ctx, h)); err != nil {
				return err
			}
		}
		return do(store.PutPolicy(ctx, w.policy(i)))
	}
	// The store has one writer and commits every record durably; several
	// goroutines keep it busy while others seal and encode.
	if err := benchParallel(ctx, 16, w.pros, func(k int) error { return seedPro(k) }, func() { bar.Add(1) }); err != nil {
		return 0, err
	}
	if err := benchParallel(ctx, 16, w.people, func(i int) error { return seedYoung(i) }, func() { bar.Add(1) }); err != nil {
		return 0, err
	}

	expires := w.at.Add(12 * time.Hour)
	session := func(personID string) error {
		id := benchToken()
		now := consent.Millis(time.Now())
		if err := do(store.CreateSession(ctx, consent.Session{IDHash: benchHashSession(id), PersonID: personID, CreatedAt: now, LastSeenAt: now, ExpiresAt: consent.Millis(expires)})); err != nil {
			return err
		}
		w.mu.Lock()
		w.sessions[personID] = id
		w.mu.Unlock()
		return nil
	}
	var who []string
	for _, k := range w.activePros {
		who = append(who, benchPro(k))
	}
	for _, i := range w.sharers {
		who = append(who, benchYP(i))
	}
	if err := benchParallel(ctx, 16, len(who), func(n int) error { return session(who[n]) }, nil); err != nil {
		return 0, err
	}
	return int(writes.Load()), nil
}

// benchParallel calls f(0..n-1) from workers goroutines; the first error
// stops it.
func benchParallel(ctx context.Context, workers, n int, f func(int) error, done func()) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil && !errors.Is(err, consent.ErrConflict) {
					cancel(err)
					return
				}
				if done != nil {
					done()
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// benchToken is a fresh session id, as server.startSession makes them.
func benchToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// benchHashSession is how the server keys a session: the SHA-256 of the id
// the browser holds, in hex (server.hashSessionID). The harness writes
// sessions straight into the store because the development provider only
// signs in demo people.
func benchHashSession(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
