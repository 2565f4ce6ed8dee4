package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sayso/internal/testenv"
	"sayso/internal/wire"
)

// TestRevoke_RaceWithReads stops a grant while a professional is reading
// under it from several goroutines. A read that began before the stop
// returned may go either way; every read that began after it returned must
// be refused. Run it with -race.
func TestRevoke_RaceWithReads(t *testing.T) {
	t.Run("OneInstance", func(t *testing.T) {
		env := testenv.New(t)
		revokeRace(t, env, env.SignIn(t, "amara"), env, env.SignIn(t, "sam"))
	})

	t.Run("TwoInstancesOneStore", func(t *testing.T) {
		a := testenv.New(t)
		b := testenv.New(t, func(o *wire.Options) { o.DataDir = a.DataDir })
		amara := a.SignIn(t, "amara")
		// Sessions live in the shared store, so a session started on A is
		// good on B (cookies are per host, not per port, so the browser
		// sends it to both).
		status, m := getMe(t, amara, b.URL)
		if status != http.StatusOK || m.ID != "amara" {
			t.Errorf("GET /v1/me on B with a session from A = %d %q, want 200 amara", status, m.ID)
		}
		revokeRace(t, a, amara, b, b.SignIn(t, "sam"))
	})
}

// revokeRace has Amara share her address with Sam through stopEnv, Sam read
// it through readEnv from several goroutines, and Amara stop it through
// stopEnv part-way.
func revokeRace(t *testing.T, stopEnv *testenv.Env, amara *http.Client, readEnv *testenv.Env, sam *http.Client) {
	t.Helper()
	const (
		readers     = 8
		maxReads    = 400 // per reader, so the loops end even if the stop never comes
		readsAfter  = 10  // per reader, once it has seen the stop returned
		okToWaitFor = 2 * readers
	)
	status, body := raceSend(t, stopEnv, amara, http.MethodPost, "/v1/young-people/amara/grants",
		map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit"})
	if status != http.StatusCreated {
		t.Fatalf("POST grants = %d %v, want 201", status, body)
	}
	grantID := body["grant"].(map[string]any)["id"].(string)

	var (
		stopped                          atomic.Bool // set as soon as the stop's answer is in
		okBefore, refusedBefore, refused atomic.Int64
		okAfter                          atomic.Int64
		wg                               sync.WaitGroup
	)
	finished := make(chan struct{})
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := 0
			for i := 0; i < maxReads && after < readsAfter; i++ {
				began := stopped.Load()
				status, body := raceSend(t, readEnv, sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
				typ, _ := body["type"].(string)
				switch {
				case status == http.StatusOK && began:
					okAfter.Add(1)
					t.Errorf("read begun after the stop returned = 200 (grant %v), want 403", body["grantId"])
				case status == http.StatusOK:
					okBefore.Add(1)
				case status == http.StatusForbidden && strings.HasSuffix(typ, "refused:sharing-stopped"):
					if began {
						refused.Add(1)
					} else {
						refusedBefore.Add(1)
					}
				default:
					t.Errorf("read = %d %v, want 200 or 403 refused:sharing-stopped", status, body)
					return
				}
				if began {
					after++
				}
			}
		}()
	}
	go func() { wg.Wait(); close(finished) }()

	// Stop once the readers are well under way.
	deadline := time.After(20 * time.Second)
wait:
	for okBefore.Load() < okToWaitFor {
		select {
		case <-finished:
			break wait
		case <-deadline:
			break wait
		case <-time.After(2 * time.Millisecond):
		}
	}
	status, body = raceSend(t, stopEnv, amara, http.MethodDelete, "/v1/young-people/amara/grants/"+grantID, nil)
	stopped.Store(true)
	if status != http.StatusOK {
		t.Errorf("DELETE grant = %d %v, want 200", status, body)
	}
	<-finished

	t.Logf("reads: %d allowed and %d refused while the stop was under way; %d refused and %d allowed after it returned",
		okBefore.Load(), refusedBefore.Load(), refused.Load(), okAfter.Load())
	if okBefore.Load() == 0 {
		t.Errorf("reads allowed before the stop = 0, want some (otherwise the test proves nothing)")
	}
	if refused.Load() == 0 {
		t.Errorf("reads begun after the stop returned = 0, want some (otherwise the test proves nothing)")
	}
}

// raceSend is safe to call from many goroutines: it reports failures with
// Errorf, never Fatal.
func raceSend(t *testing.T, env *testenv.Env, c *http.Client, method, path string, body any) (int, map[string]any) {
	req, err := jsonRequest(method, env.URL+path, env.URL, "", body)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}
