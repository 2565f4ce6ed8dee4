package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"sayso/consent"
	"sayso/demo"
	"sayso/internal/wire"
	"sayso/keys"
	"sayso/ledger"
	"sayso/store/sqlite"
)

// benchResult is one workload's measurement.
type benchResult struct {
	Name        string
	Clients     int
	Rate        float64 // offered rate of a paced workload; 0 for closed loops
	Requests    int     // completed in the measured window
	Errors      int     // of those, failures and unexpected answers
	FirstErrors []string
	Duration    time.Duration
	Throughput  float64 // Requests per second
	P50         time.Duration
	P99         time.Duration
	P999        time.Duration
	PeakRSS     int64 // Sayso's VmHWM during the workload, bytes
	// CPU is the CPU time the measured process (Sayso, or this program for
	// the floor) used in the measured window, all threads: on a shared
	// machine CPU per request varies less than throughput does.
	CPU time.Duration
}

// CPUPerRequest is CPU divided by Requests.
func (r benchResult) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// benchOp is one request of a workload. It returns an error for a failure
// or an answer other than the one the seeded world implies.
type benchOp func(ctx context.Context, rng *rand.Rand) error

// benchLoop runs op from clients goroutines for warmup and then duration,
// and measures the operations that finished in the second part. With rate
// > 0 it is an open loop: operations are due at a fixed rate and latency
// counts from when each was due, so a server that falls behind shows it.
//
// cpu, if not nil, reports the CPU time used so far by the process being
// measured; it is read at the start and end of the measured window.
func benchLoop(ctx context.Context, name string, clients int, warmup, duration time.Duration, rate float64, cpu func() time.Duration, op benchOp) benchResult {
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+duration)
	ctx, cancel := context.WithDeadline(ctx, until.Add(10*time.Second))
	defer cancel()
	cpuUsed := make(chan time.Duration, 1)
	if cpu != nil {
		go func() {
			time.Sleep(time.Until(from))
			c0 := cpu()
			time.Sleep(time.Until(until))
			cpuUsed <- cpu() - c0
		}()
	} else {
		cpuUsed <- 0
	}

	var due chan time.Time
	if rate > 0 {
		due = make(chan time.Time, 1<<16)
		go func() {
			defer close(due)
			interval := time.Duration(float64(time.Second) / rate)
			for t := start; t.Before(until); t = t.Add(interval) {
				if d := time.Until(t); d > 0 {
					time.Sleep(d)
				}
				select {
				case due <- t:
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	type tally struct {
		lat    []time.Duration
		errors int
		first  []string
	}
	tallies := make([]tally, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(c)))
			t := &tallies[c]
			for {
				var began time.Time
				if due != nil {
					var ok bool
					if began, ok = <-due; !ok {
						return
					}
				} else {
					began = time.Now()
					if !began.Before(until) {
						return
					}
				}
				err := op(ctx, rng)
				end := time.Now()
				if end.Before(from) || end.After(until) {
					continue
				}
				t.lat = append(t.lat, end.Sub(began))
				if err != nil {
					t.errors++
					if len(t.first) < 3 {
						t.first = append(t.first, err.Error())
					}
				}
			}
		}()
	}
	wg.Wait()

	res := benchResult{Name: name, Clients: clients, Rate: rate, Duration: duration}
	var lat []time.Duration
	for _, t := range tallies {
		lat = append(lat, t.lat...)
		res.Errors += t.errors
		for _, e := range t.first {
			if len(res.FirstErrors) < 3 {
				res.FirstErrors = append(res.FirstErrors, e)
			}
		}
	}
	res.Requests = len(lat)
	res.Throughput = float64(len(lat)) / duration.Seconds()
	slices.Sort(lat)
	res.P50, res.P99, res.P999 = quantile(lat, 0.5), quantile(lat, 0.99), quantile(lat, 0.999)
	res.CPU = <-cpuUsed
	return res
}

// quantile of sorted values (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// measureFloor measures what the store itself can make durable: a
// ledger.Log with Sayso's batching (wire.LogBatching()) over a fresh store in
// dir, written by writers goroutines with disclosure-sized entries sealed
// under young people's keys, as every disclosure is.
func measureFloor(ctx context.Context, dir string, writers int, warmup, duration time.Duration) (benchResult, error) {
	store, err := sqlite.Open(ctx, nil, filepath.Join(dir, "sayso.db"))
	if err != nil {
		return benchResult{}, err
	}
	defer store.Close()
	kek, err := keys.OpenKEK(filepath.Join(dir, "kek.json"), "")
	if err != nil {
		return benchResult{}, err
	}
	vault := keys.NewVault(kek, store, 1000, time.Hour, nil)
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return benchResult{}, err
	}
	cfg := wire.LogBatching()
	cfg.Origin = "bench.invalid/floor"
	l, err := ledger.New(slog.New(slog.DiscardHandler), store, vault, key, cfg)
	if err != nil {
		return benchResult{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	l.Run(runCtx)
	defer func() { stop(); l.Wait() }()
	const people = 100
	for i := range people { // their keys exist before the clock starts, as in Sayso
		if _, err := vault.Seal(ctx, benchYP(i), "warm", nil); err != nil {
			return benchResult{}, err
		}
	}
	op := func(ctx context.Context, rng *rand.Rand) error {
		k, i, j := rng.IntN(1000), rng.IntN(people), rng.IntN(benchGrantsEach)
		_, err := l.Record(ctx, consent.Disclosure{
			At: time.Now(), ActorID: benchPro(k), ActorName: fmt.Sprintf("Bench Professional %d", k), ActorRole: consent.RoleSocialWorker,
			OrganisationID: demo.HolderOrganisation, YoungPersonID: benchYP(i), Category: "address", Purpose: "home-visit",
			LawfulBasis: consent.BasisConsent, Channel: consent.ChannelAPI, Outcome: consent.OutcomeDisclosed, Reason: consent.ReasonGranted,
			GrantID: fmt.Sprintf("g-%08d-%02d", i, j),
		})
		return err
	}
	name := "floor"
	if writers == 1 {
		name = "floor-serial"
	}
	return benchLoop(ctx, name, writers, warmup, duration, 0, selfCPU, op), nil
}

// benchDriver makes the requests of the workloads.
type benchDriver struct {
	w           *benchWorld
	base        string
	client      *http.Client
	tokenMu     sync.Mutex
	token       string
	madeMu      sync.Mutex
	made        []madeGrant // grants the mixed workload made, for it to stop
	sessionName string
}

type madeGrant struct{ yp, id string }

func newBenchDriver(ctx context.Context, w *benchWorld, base string, clients int) (*benchDriver, error) {
	d := &benchDriver{w: w, base: base, sessionName: "sayso_session",
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute, DisableCompression: true,
		}}}
	if _, err := d.holderToken(ctx, ""); err != nil {
		return nil, err
	}
	// Every session must work before anything is measured.
	rng := rand.New(rand.NewPCG(1, 2))
	if err := d.read(ctx, rng); err != nil {
		return nil, fmt.Errorf("a first read: %w", err)
	}
	return d, nil
}

// question picks an active young person, and a professional with a grant
// about them, and what that professional asks: when allowed, exactly what
// the grant covers; else a purpose it does not cover, or the same question
// about another active young person who has shared nothing with them.
// holder limits the professionals to those the holder system may ask about.
func (d *benchDriver) question(rng *rand.Rand, allowed, holder bool) (k int, yp, category, purpose string) {
	w := d.w
	for {
		i, j := w.active[rng.IntN(len(w.active))], rng.IntN(benchGrantsEach)
		k = w.proOf(i, j)
		if holder && w.orgOf(k).ID != demo.HolderOrganisation {
			continue
		}
		cat, pur := benchCategories[j%len(benchCategories)], benchPurposes[j%len(benchPurposes)]
		if ask, ok := benchAsk[cat]; ok {
			cat = ask
		}
		switch {
		case allowed:
		case rng.IntN(2) == 0:
			pur = benchPurposes[(j+1)%len(benchPurposes)] // shared, but not for this purpose
		default:
			if i = w.active[rng.IntN(len(w.active))]; w.hasGrant(i, k) {
				continue
			}
		}
		return k, benchYP(i), cat, pur
	}
}

// do sends a request and checks the status; the body is returned.
func (d *benchDriver) do(ctx context.Context, method, path, session string, body any, header map[string]string, want ...int) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if session != "" {
		req.Header.Set("Cookie", d.sessionName+"="+session)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if !slices.Contains(want, resp.StatusCode) {
		return out, resp.StatusCode, fmt.Errorf("%s %s: %d, want %v: %.200s", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode, want, out)
	}
	return out, resp.StatusCode, nil
}

func (d *benchDriver) session(personID string) string {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	return d.w.sessions[personID]
}

// read is a professional's purpose-bound read, allowed half the time.
func (d *benchDriver) read(ctx context.Context, rng *rand.Rand) error {
	return d.readAs(ctx, rng, true)
}

func (d *benchDriver) readAs(ctx context.Context, rng *rand.Rand, strict bool) error {
	allowed := rng.IntN(2) == 0
	k, yp, cat, pur := d.question(rng, allowed, false)
	want := []int{http.StatusOK, http.StatusForbidden}
	if strict && allowed {
		want = []int{http.StatusOK}
	} else if strict {
		want = []int{http.StatusForbidden}
	}
	_, _, err := d.do(ctx, http.MethodGet, "/v1/young-people/"+yp+"/records/"+cat+"?purpose="+url.QueryEscape(pur), d.session(benchPro(k)), nil, nil, want...)
	return err
}

// holderToken returns the demo holder system's access token, fetching a new
// one if stale is the one held.
func (d *benchDriver) holderToken(ctx context.Context, stale string) (string, error) {
	d.tokenMu.Lock()
	defer d.tokenMu.Unlock()
	if d.token != "" && d.token != stale {
		return d.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/dev-idp/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demo.HolderClient, demo.HolderSecret)
	resp, err := d.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("holder token: status %d, %v", resp.StatusCode, err)
	}
	d.token = out.AccessToken
	return d.token, nil
}

// decide is a holder system's decision request, a permit half the time.
func (d *benchDriver) decide(ctx context.Context, rng *rand.Rand) error {
	allowed := rng.IntN(2) == 0
	k, yp, cat, pur := d.question(rng, allowed, true)
	in := map[string]string{"professionalId": benchPro(k), "youngPersonId": yp, "category": cat, "purpose": pur}
	for attempt := 0; ; attempt++ {
		tok, err := d.holderToken(ctx, "")
		if err != nil {
			return err
		}
		body, status, err := d.do(ctx, http.MethodPost, "/v1/decisions", "", in, map[string]string{"Authorization": "Bearer " + tok}, http.StatusOK)
		if status == http.StatusUnauthorized && attempt == 0 {
			if _, err := d.holderToken(ctx, tok); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		var out struct {
			Decision string `json:"decision"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return err
		}
		if want := map[bool]string{true: "permit", false: "deny"}[allowed]; out.Decision != want {
			return fmt.Errorf("decision %q, want %q: %.200s", out.Decision, want, body)
		}
		return nil
	}
}

// mixed is mostly reads, with young people sharing, stopping sharing and
// reading who has looked at their information.
func (d *benchDriver) mixed(ctx context.Context, rng *rand.Rand) error {
	switch r := rng.IntN(100); {
	case r < 80:
		// Grants made here may turn an expected refusal into a yes.
		return d.readAs(ctx, rng, false)
	case r < 86:
		return d.grant(ctx, rng)
	case r < 92:
		d.madeMu.Lock()
		var g madeGrant
		if n := len(d.made); n > 0 {
			at := rng.IntN(n)
			g = d.made[at]
			d.made[at] = d.made[n-1]
			d.made = d.made[:n-1]
		}
		d.madeMu.Unlock()
		if g.id == "" {
			return d.grant(ctx, rng)
		}
		_, _, err := d.do(ctx, http.MethodDelete, "/v1/young-people/"+g.yp+"/grants/"+g.id, d.session(g.yp), nil, nil, http.StatusOK)
		return err
	default:
		yp := benchYP(d.w.sharers[rng.IntN(len(d.w.sharers))])
		_, _, err := d.do(ctx, http.MethodGet, "/v1/young-people/"+yp+"/disclosures?limit=20", d.session(yp), nil, nil, http.StatusOK)
		return err
	}
}

// grant has a young person share a category with an active professional.
func (d *benchDriver) grant(ctx context.Context, rng *rand.Rand) error {
	yp := benchYP(d.w.sharers[rng.IntN(len(d.w.sharers))])
	in := map[string]string{
		"professionalId": benchPro(d.w.activePros[rng.IntN(len(d.w.activePros))]),
		"category":       benchCategories[rng.IntN(len(benchCategories))],
		"purpose":        benchPurposes[rng.IntN(len(benchPurposes))],
	}
	body, _, err := d.do(ctx, http.MethodPost, "/v1/young-people/"+yp+"/grants", d.session(yp), in, nil, http.StatusCreated)
	if err != nil {
		return err
	}
	var out struct {
		Grant struct {
			ID string `json:"id"`
		} `json:"grant"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Grant.ID == "" {
		return fmt.Errorf("grant answer without an id: %.200s", body)
	}
	d.madeMu.Lock()
	d.made = append(d.made, madeGrant{yp: yp, id: out.Grant.ID})
	d.madeMu.Unlock()
	return nil
}

// benchLogSize reads how many entries the disclosure log in dataDir holds.
func benchLogSize(ctx context.Context, dataDir string) (int64, error) {
	store, err := sqlite.Open(ctx, nil, filepath.Join(dataDir, "sayso.db"))
	if err != nil {
		return 0, err
	}
	defer store.Close()
	return store.LogSize(ctx)
}
