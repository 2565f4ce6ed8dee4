package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sayso/consent"
	"sayso/internal/storetestenv"
	"sayso/internal/testenv"
	"sayso/internal/wire"
	"sayso/ledger"
	"sayso/server"
)

// errInjected is the fault faultyStore injects. It deliberately does not
// wrap consent.ErrUnavailable: whatever a store's failure looks like, a read
// must fail closed.
var errInjected = errors.New("injected fault: the disk is on fire")

type faultMode int

const (
	passThrough faultMode = iota
	appendErrors
	appendHangs
)

// faultyStore is the real store with an AppendLog that can be made to fail
// at once or to hang until the log's writer is stopped or the fault ends.
// A hang that ends returns errInjected, so an entry whose answer was given
// up on is never written after the fact.
type faultyStore struct {
	consent.Store

	mu      sync.Mutex
	mode    faultMode
	release chan struct{} // closed when a hang ends

	attempts atomic.Int64 // AppendLog calls that met a fault
}

func (f *faultyStore) set(m faultMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mode == appendHangs {
		close(f.release)
	}
	f.mode = m
	if m == appendHangs {
		f.release = make(chan struct{})
	}
}

func (f *faultyStore) AppendLog(ctx context.Context, first int64, entries []consent.LogEntry, hashes []consent.StoredHash) error {
	f.mu.Lock()
	mode, release := f.mode, f.release
	f.mu.Unlock()
	switch mode {
	case appendErrors:
		f.attempts.Add(1)
		return errInjected
	case appendHangs:
		f.attempts.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-release:
			return errInjected
		}
	}
	return f.Store.AppendLog(ctx, first, entries, hashes)
}

// faultEnv is a whole Sayso, built by internal/wire as always on the
// backend's store, with a faultyStore over it.
type faultEnv struct {
	*testenv.Env
	faults *faultyStore
}

func newFaultEnv(t *testing.T, backend storetestenv.Backend) *faultEnv {
	t.Helper()
	faults := &faultyStore{}
	env := testenv.New(t, backend.New(t).Wire, func(o *wire.Options) {
		o.WrapStore = func(s consent.Store) consent.Store {
			faults.Store = s
			return faults
		}
	})
	if faults.Store == nil {
		t.Fatal("wire.Build did not call Options.WrapStore")
	}
	return &faultEnv{Env: env, faults: faults}
}

// settle ends any fault and waits until the log's writer has dealt with
// everything queued before now, all of it failing, so that no entry given up
// on can be written once appends pass through again. The writer takes
// entries in order, so once a probe has failed with the injected error,
// everything queued before it has been failed too.
func (e *faultEnv) settle(t *testing.T) {
	t.Helper()
	e.faults.set(appendErrors)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	probe := consent.Disclosure{At: time.Now(), ActorID: "fault-probe", YoungPersonID: "amara", Category: "address",
		Purpose: "home-visit", Channel: consent.ChannelAPI, Outcome: consent.OutcomeRefused}
	if _, err := e.App.Log.Record(ctx, probe); !errors.Is(err, errInjected) {
		t.Fatalf("Record(probe) while appends fail = %v, want %v", err, errInjected)
	}
	e.faults.set(passThrough)
}

// logSize is the size of the log on disk, asked of the store under the
// faults.
func (e *faultEnv) logSize(t *testing.T) int64 {
	t.Helper()
	n, err := e.faults.Store.LogSize(context.Background())
	if err != nil {
		t.Fatalf("LogSize() = %v, want nil", err)
	}
	return n
}

// rawCall sends a request and returns the status, headers and body as sent.
func rawCall(t *testing.T, c *http.Client, method, url, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	req, err := jsonRequest(method, url, "", token, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, raw
}

// mustBeUnavailable checks a fail-closed answer: 503 problem+json of type
// unavailable, carrying nothing about the young person.
func mustBeUnavailable(t *testing.T, what string, status int, header http.Header, body []byte) {
	t.Helper()
	var p server.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Errorf("%s body = %q, want a problem: %v", what, body, err)
	}
	if status != http.StatusServiceUnavailable || p.Type != "urn:sayso:problem:unavailable" || p.Status != http.StatusServiceUnavailable {
		t.Errorf("%s = %d %s, want 503 urn:sayso:problem:unavailable", what, status, body)
	}
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s Content-Type = %q, want application/problem+json", what, ct)
	}
	var found []string
	for _, personal := range []string{"Willow Road", "RV1", "Amara", "Okafor", "records", "logIndex", "permit", "grantId"} {
		if bytes.Contains(body, []byte(personal)) {
			found = append(found, personal)
		}
	}
	if len(found) > 0 {
		t.Errorf("%s body has %q, want nothing about the read", what, found)
	}
}

// TestFaults_LogAppendFailsClosed breaks the disclosure log's durable write
// under a running Sayso and checks that nothing is disclosed while it is
// broken, nothing is logged for answers that were not given, nothing else
// changes, and Sayso recovers by itself once the store works again.
func TestFaults_LogAppendFailsClosed(t *testing.T) {
	tests := []struct {
		name     string
		mode     faultMode
		min, max time.Duration // how long a refused answer takes
	}{
		// Bounds on fail-closed behaviour, not speed targets: a failed write
		// is refused at once, a write that never finishes at
		// consent.LogTimeout (2s).
		{"AppendErrors", appendErrors, 0, 2500 * time.Millisecond},
		{"AppendHangs", appendHangs, 1900 * time.Millisecond, 3 * time.Second},
	}
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				env := newFaultEnv(t, backend)
				ctx := context.Background()
				amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
				holder := env.Client(t)
				// A read that never ends must fail the test, not hang it.
				sam.Timeout, holder.Timeout = 10*time.Second, 10*time.Second
				grant(t, env.Env, amara, "amara", "sam", "address", "home-visit")
				readPath := env.URL + "/v1/young-people/amara/records/address?purpose=home-visit"
				if status, _, body := rawCall(t, sam, http.MethodGet, readPath, "", nil); status != http.StatusOK {
					t.Fatalf("read before the fault = %d %s, want 200", status, body)
				}
				token := holderToken(t, env.Env)
				decision := map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "home-visit"}
				status, grantsBefore := call(t, env.Env, amara, http.MethodGet, "/v1/young-people/amara/grants", nil)
				mustStatus(t, "GET grants before", status, http.StatusOK, grantsBefore)
				sizeBefore := env.logSize(t)

				env.faults.set(tt.mode)
				start := time.Now()
				status, header, body := rawCall(t, sam, http.MethodGet, readPath, "", nil)
				took := time.Since(start)
				mustBeUnavailable(t, "read while appends fail", status, header, body)
				if took < tt.min || took > tt.max {
					t.Errorf("read while appends fail took %v, want between %v and %v", took, tt.min, tt.max)
				}
				t.Logf("read while appends fail answered in %v", took)

				start = time.Now()
				status, header, body = rawCall(t, holder, http.MethodPost, env.URL+"/v1/decisions", token, decision)
				took = time.Since(start)
				mustBeUnavailable(t, "holder decision while appends fail", status, header, body)
				if took < tt.min || took > tt.max {
					t.Errorf("holder decision while appends fail took %v, want between %v and %v", took, tt.min, tt.max)
				}
				t.Logf("holder decision while appends fail answered in %v", took)

				if n := env.faults.attempts.Load(); n == 0 {
					t.Errorf("AppendLog calls that met the fault = 0, want some: the fault was never reached")
				}
				env.settle(t)
				if got := env.logSize(t); got != sizeBefore {
					t.Errorf("LogSize() after refused answers = %d, want %d (unchanged)", got, sizeBefore)
				}

				// Appends work again: the next read is answered and logged once.
				status, _, body = rawCall(t, sam, http.MethodGet, readPath, "", nil)
				if status != http.StatusOK {
					t.Fatalf("read after the fault = %d %s, want 200", status, body)
				}
				var read struct {
					LogIndex int64 `json:"logIndex"`
				}
				if err := json.Unmarshal(body, &read); err != nil {
					t.Fatalf("read after the fault: %v", err)
				}
				if got := env.logSize(t); got != sizeBefore+1 {
					t.Errorf("LogSize() after one read = %d, want %d", got, sizeBefore+1)
				}
				if read.LogIndex != sizeBefore {
					t.Errorf("logIndex of the read after the fault = %d, want %d", read.LogIndex, sizeBefore)
				}
				entries, err := env.faults.Store.LogEntries(ctx, sizeBefore, sizeBefore+1)
				if err != nil || len(entries) != 1 {
					t.Fatalf("LogEntries(%d, %d) = %d entries, %v; want 1, nil", sizeBefore, sizeBefore+1, len(entries), err)
				}
				// Its look-up fields; Verify below checks them against its bytes.
				if e := entries[0]; e.Outcome != consent.OutcomeDisclosed || e.ActorID != "sam" || e.YoungPersonID != "amara" || e.Category != "address" {
					t.Errorf("entry %d = %s: %s read %s's %s, want disclosed: sam read amara's address", sizeBefore, e.Outcome, e.ActorID, e.YoungPersonID, e.Category)
				}

				status, grantsAfter := call(t, env.Env, amara, http.MethodGet, "/v1/young-people/amara/grants", nil)
				mustStatus(t, "GET grants after", status, http.StatusOK, grantsAfter)
				if !reflect.DeepEqual(grantsAfter, grantsBefore) {
					t.Errorf("GET grants after the fault = %v, want %v (unchanged)", grantsAfter, grantsBefore)
				}

				// The log verifies, against a checkpoint signed after the fault.
				if _, _, err := env.App.Log.Checkpoint(ctx); err != nil {
					t.Fatalf("Checkpoint() = %v, want nil", err)
				}
				storedOrigin, err := env.App.Keys.LogOrigin("")
				if err != nil {
					t.Fatalf("LogOrigin() = %v, want nil", err)
				}
				vkey, err := ledger.VerifierKey(storedOrigin, env.App.Keys.Signing.Public().(ed25519.PublicKey))
				if err != nil {
					t.Fatalf("VerifierKey() = %v, want nil", err)
				}
				rep, err := ledger.Verify(ctx, env.faults.Store, []string{vkey}, storedOrigin, nil)
				if err != nil || !rep.OK() || rep.Entries != sizeBefore+1 || rep.Checkpoints == 0 {
					t.Errorf("Verify() = %+v, %v; want OK with %d entries and a checkpoint", rep, err, sizeBefore+1)
				}
			})
		}
	})
}
