package server_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sayso/internal/testenv"
	"sayso/ledger"
)

// TestSoak_MixedLoad runs mixed load over loopback with bounded loops. It
// runs for a few seconds in the normal suite; SAYSO_SOAK=5m runs the long
// soak. Every read and decision answered must have its log entry, nothing
// unexpected may happen, and goroutines, open files and memory must settle.
func TestSoak_MixedLoad(t *testing.T) {
	d := 4 * time.Second
	if v := os.Getenv("SAYSO_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SAYSO_SOAK=%q: %v", v, err)
		}
	} else if testing.Short() {
		d = time.Second
	}
	env := testenv.New(t)
	ctx := context.Background()
	amara, sam, jo, priya := env.SignIn(t, "amara"), env.SignIn(t, "sam"), env.SignIn(t, "jo"), env.SignIn(t, "priya")
	grant(t, env, amara, "amara", "sam", "address", "home-visit")
	token := holderToken(t, env)
	startSize, _ := env.App.Store.LogSize(ctx)

	settle := func() (int, int, uint64) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fds, _ := os.ReadDir("/proc/self/fd")
		return runtime.NumGoroutine(), len(fds), m.HeapInuse
	}

	var logged, unexpected atomic.Int64
	var mu sync.Mutex
	problems := map[string]int{}
	note := func(what string) {
		unexpected.Add(1)
		mu.Lock()
		problems[what]++
		mu.Unlock()
	}
	deadline := time.Now().Add(d)
	var midGoroutines, midFDs int
	var midHeap uint64
	var once sync.Once
	work := []func(i int){
		func(int) { // a read that is allowed unless Amara has just stopped it
			status, _ := read(t, env, sam, "amara", "address", "home-visit")
			switch status {
			case http.StatusOK, http.StatusForbidden:
				logged.Add(1)
			default:
				note(fmt.Sprint("sam read ", status))
			}
		},
		func(int) { // a read that is always refused, and logged for the DPO
			status, _ := read(t, env, jo, "amara", "social-care", "plan-support")
			if status == http.StatusForbidden {
				logged.Add(1)
			} else {
				note(fmt.Sprint("jo read ", status))
			}
		},
		func(int) { // a holder decision
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/v1/decisions", jsonBody(map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "home-visit"}))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := env.Client(t).Do(req)
			if err != nil {
				note("decision transport")
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				logged.Add(1)
			} else {
				note(fmt.Sprint("decision ", resp.StatusCode))
			}
		},
		func(int) { // Amara reads her feed
			if status, _ := call(t, env, amara, http.MethodGet, "/v1/young-people/amara/disclosures?limit=20", nil); status != http.StatusOK {
				note(fmt.Sprint("feed ", status))
			}
		},
		func(i int) { // Amara shares with Priya and stops it again
			if i%5 != 0 {
				return
			}
			status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/grants", map[string]any{"professionalId": "priya", "category": "education", "purpose": "education-support"})
			if status != http.StatusCreated {
				note(fmt.Sprint("grant ", status))
				return
			}
			if status, _ := read(t, env, priya, "amara", "education", "education-support"); status == http.StatusOK {
				logged.Add(1)
			} else {
				note(fmt.Sprint("priya read ", status))
			}
			id := body["grant"].(map[string]any)["id"].(string)
			if status, _ := call(t, env, amara, http.MethodDelete, "/v1/young-people/amara/grants/"+id, nil); status != http.StatusOK {
				note(fmt.Sprint("stop ", status))
			}
		},
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1_000_000 && time.Now().Before(deadline); i++ {
				work[(w+i)%len(work)](i)
				if w == 0 && time.Now().After(deadline.Add(-d/2)) {
					once.Do(func() { midGoroutines, midFDs, midHeap = settle() })
				}
			}
		}()
	}
	wg.Wait()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
	endGoroutines, endFDs, endHeap := settle()

	if n := unexpected.Load(); n != 0 {
		t.Errorf("unexpected answers during the soak: %v", problems)
	}
	endSize, _ := env.App.Store.LogSize(ctx)
	if got, want := endSize-startSize, logged.Load(); got != want {
		t.Errorf("log entries written = %d, want %d (one per read or decision answered)", got, want)
	}
	if logged.Load() == 0 {
		t.Fatal("no load was applied")
	}
	// Settled figures at the end may not run away from those half-way.
	if endGoroutines > midGoroutines+20 {
		t.Errorf("goroutines: %d half-way, %d at the end", midGoroutines, endGoroutines)
	}
	if endFDs > midFDs+20 {
		t.Errorf("open files: %d half-way, %d at the end", midFDs, endFDs)
	}
	if midHeap > 0 && endHeap > 2*midHeap+16<<20 {
		t.Errorf("heap in use: %d half-way, %d at the end", midHeap, endHeap)
	}
	if _, _, err := env.App.Log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	origin, _ := env.App.Keys.LogOrigin("")
	vkeys, _ := ledger.VerifierKeys(origin, []ed25519.PublicKey{env.App.Keys.Signing.Public().(ed25519.PublicKey)})
	rep, err := ledger.Verify(ctx, env.App.Store, vkeys, origin, nil)
	if err != nil || !rep.OK() {
		t.Errorf("Verify() after the soak = %+v, %v", rep, err)
	}
	t.Logf("soak %v: %d logged reads and decisions; goroutines %d→%d, files %d→%d, heap %d→%d KiB",
		d, logged.Load(), midGoroutines, endGoroutines, midFDs, endFDs, midHeap>>10, endHeap>>10)
}
