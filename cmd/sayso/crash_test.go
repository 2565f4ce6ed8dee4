package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sayso/consent"
	"sayso/internal/apitest"
	"sayso/internal/storetestenv"
)

// Settings of the crash test.
const (
	crashRounds  = 50 // SIGKILLs; the test promises at least 50
	crashReaders = 4  // concurrent readers, so kills land in the middle of group commits
	crashMinWait = 20 * time.Millisecond
	crashMaxWait = 300 * time.Millisecond
)

// TestCrash_KillNineLosesNoAcknowledgedEntry runs the real binary, has Sam
// read Amara's address over and over, and SIGKILLs the process at a random
// moment, many times on one data folder. Every read that was answered 200 (so
// its log entry was promised durable) must be in the log after the crashes,
// at the index the answer gave, and the log must still verify.
//
// It runs on every backend: the embedded store, and MongoDB when
// SAYSO_TEST_MONGODB_URI names a server (see internal/storetestenv).
//
// SAYSO_CRASH_SEED=n replays the kill timings of a logged run.
// testSeed is the random seed of a test run: from the variable named, to
// replay a logged run, else new. It is logged either way.
func testSeed(t *testing.T, variable, what string) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(variable); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not a number", variable, s)
		}
		seed = n
	}
	t.Logf("seed %d (%s=%d replays %s)", seed, variable, seed, what)
	return seed
}

func TestCrash_KillNineLosesNoAcknowledgedEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it many times")
	}
	bin := buildSayso(t)
	seed := testSeed(t, "SAYSO_CRASH_SEED", "the kill timings")
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		killNineRounds(t, bin, seed, backend.New(t))
	})
}

// buildSayso builds the binary, as released (no C), into a temporary folder.
func buildSayso(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sayso")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build = %v\n%s", err, out)
	}
	return bin
}

// killNineRounds is the crash test on one store.
func killNineRounds(t *testing.T, bin string, seed uint64, place storetestenv.Place) {
	started := time.Now()
	rng := rand.New(rand.NewPCG(seed, 0))

	var acked []int64      // logIndex of every read answered 200 in full
	var checkpointed int64 // the largest size a served checkpoint named
	other := map[int]int{} // other statuses the readers saw, for the log
	for round := range crashRounds {
		srv := startSayso(t, bin, place)
		amara, sam := crashSignIn(t, srv.base, "amara"), crashSignIn(t, srv.base, "sam")
		if round == 0 {
			crashGrant(t, srv.base, amara)
		}
		// Sign a checkpoint of what is there now; verify-log checks every
		// one of them against the log that survives the later kills.
		checkpointed = max(checkpointed, crashCheckpoint(t, srv.base, sam))

		stop := make(chan struct{})
		results := make(chan readerResult, crashReaders)
		for range crashReaders {
			go readLoop(t, srv.base, sam, nil, stop, results)
		}
		time.Sleep(crashMinWait + time.Duration(rng.Int64N(int64(crashMaxWait-crashMinWait)+1)))
		killErr := srv.kill()
		close(stop)
		for range crashReaders {
			r := <-results
			acked = append(acked, r.acked...)
			for status, n := range r.other {
				other[status] += n
			}
		}
		if killErr != nil {
			t.Fatalf("round %d: %v", round, killErr)
		}
		srv.closeIdle()
	}

	// A clean start after the last kill, a checkpoint of the whole log, and
	// a clean stop.
	srv := startSayso(t, bin, place)
	sam := crashSignIn(t, srv.base, "sam")
	final := crashCheckpoint(t, srv.base, sam)
	srv.term(t)

	t.Logf("%d rounds, %d acknowledged reads, log of %d entries, other answers %v, %.1fs",
		crashRounds, len(acked), final, other, time.Since(started).Seconds())
	if len(acked) == 0 {
		t.Fatalf("acknowledged reads = 0, want some: the test checked nothing")
	}
	if final < checkpointed {
		t.Errorf("log size after the crashes = %d, want at least %d (a checkpoint was served at that size)", final, checkpointed)
	}
	checkAcked(t, place, acked)

	cmd := exec.Command(bin, "verify-log", "--data-dir", place.DataDir, "--quiet")
	cmd.Env = append(os.Environ(), place.Env()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil || !strings.Contains(stdout.String(), "OK") {
		t.Errorf("sayso verify-log = %v, stdout %q, stderr %q; want exit 0 and OK", err, stdout.String(), stderr.String())
	}
}

// checkAcked opens the store the killed processes left and checks that each
// acknowledged index holds Sam's read of Amara's address, and that no index
// was acknowledged twice.
func checkAcked(t *testing.T, place storetestenv.Place, acked []int64) {
	t.Helper()
	problems, err := ackedProblems(context.Background(), place.Open(t), acked)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range problems {
		if i == 10 {
			t.Fatalf("stopping after %d bad entries", i)
		}
		t.Error(p)
	}
}

// ackedProblems lists what is wrong in store with the acknowledged
// indexes: an entry missing, not Sam's read of Amara's address, or one
// acknowledged twice. It sorts acked.
func ackedProblems(ctx context.Context, store consent.Store, acked []int64) ([]string, error) {
	size, err := store.LogSize(ctx)
	if err != nil {
		return nil, fmt.Errorf("LogSize() = %v, want nil", err)
	}
	entries, err := store.LogEntries(ctx, 0, size)
	if err != nil {
		return nil, fmt.Errorf("LogEntries(0, %d) = %v, want nil", size, err)
	}
	byIndex := make(map[int64]consent.LogEntry, len(entries))
	for _, e := range entries {
		byIndex[e.Index] = e
	}
	slices.Sort(acked)
	var problems []string
	for i, idx := range acked {
		if i > 0 && acked[i-1] == idx {
			problems = append(problems, fmt.Sprintf("log index %d was acknowledged to two reads, want each read its own entry", idx))
		}
		// The entry's committed bytes, read without keys (the sealed part
		// holds only the grant id).
		e, ok := byIndex[idx]
		if !ok {
			problems = append(problems, fmt.Sprintf("log entry %d (acknowledged) is missing from a log of %d entries", idx, size))
		} else if d, _, err := consent.DisclosureHeader(e.Data); err != nil {
			problems = append(problems, fmt.Sprintf("DisclosureHeader(entry %d) = %v, want nil", idx, err))
		} else if d.Outcome != consent.OutcomeDisclosed || d.ActorID != "sam" || d.YoungPersonID != "amara" ||
			d.Category != "address" || d.Purpose != "home-visit" || d.Channel != consent.ChannelAPI {
			problems = append(problems, fmt.Sprintf("entry %d = %s: %s read %s's %s for %s via %s, want disclosed: sam read amara's address for home-visit via api",
				idx, d.Outcome, d.ActorID, d.YoungPersonID, d.Category, d.Purpose, d.Channel))
		}
	}
	return problems, nil
}

// saysoProcess is one running `sayso serve --dev`.
type saysoProcess struct {
	cmd  *exec.Cmd
	base string
	logs *strings.Builder
	done chan error
}

// startSayso starts the binary on a free port over the place's store and
// waits until it is ready. If the test fails while it runs, it is killed and
// its log is shown.
func startSayso(t *testing.T, bin string, place storetestenv.Place) *saysoProcess {
	t.Helper()
	return startSaysoUnder(t, nil, bin, place)
}

// startSaysoUnder is startSayso with the binary run by a wrapper command
// (such as strace): wrapper is its name and arguments before the binary.
func startSaysoUnder(t *testing.T, wrapper []string, bin string, place storetestenv.Place) *saysoProcess {
	t.Helper()
	addr := freeAddr(t)
	args := append(slices.Clone(wrapper), bin, "serve", "--dev", "--addr", addr, "--data-dir", place.DataDir)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), place.Env()...)
	p := &saysoProcess{cmd: cmd, base: "http://" + addr, logs: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-p.done:
			_ = err // stopped by the test, which reported any problem
		default: // the test failed while it ran
			cmd.Process.Kill()
			<-p.done
			t.Logf("sayso at %s logged:\n%s", p.base, p.logs.String())
		}
	})
	waitReady(t, p.base)
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *saysoProcess) kill() error {
	if err := p.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill sayso: %w", err)
	}
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			return fmt.Errorf("sayso after SIGKILL = %v, want killed by SIGKILL", err)
		}
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("sayso did not die within 10s of SIGKILL")
	}
}

// term sends SIGTERM and requires a clean exit.
func (p *saysoProcess) term(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("sayso after SIGTERM = %v, want a clean exit; it logged:\n%s", err, p.logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("sayso did not stop within 20s of SIGTERM")
	}
}

// closeIdle drops kept-alive connections to a process that is gone.
func (p *saysoProcess) closeIdle() { http.DefaultClient.CloseIdleConnections() }

// crashSignIn signs who in with a new cookie jar, trying again if the
// session does not work, and returns a client whose answers are checked
// against openapi.yaml.
func crashSignIn(t *testing.T, base, who string) *http.Client {
	t.Helper()
	var status int
	var id string
	for range 3 {
		jar, _ := cookiejar.New(nil)
		c := apitest.Client(t, jar)
		c.Timeout = 10 * time.Second
		resp, err := c.Get(base + "/login?login_hint=" + who)
		if err != nil {
			t.Fatalf("sign in as %s: %v", who, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		resp, err = c.Get(base + "/v1/me")
		if err != nil {
			t.Fatalf("GET /v1/me as %s: %v", who, err)
		}
		var me struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&me)
		resp.Body.Close()
		status, id = resp.StatusCode, me.ID
		if status == http.StatusOK && id == who {
			return c
		}
	}
	t.Fatalf("GET /v1/me after signing in as %s = %d %q, want 200 %s", who, status, id, who)
	return nil
}

func crashGrant(t *testing.T, base string, amara *http.Client) {
	t.Helper()
	body := `{"professionalId":"sam","category":"address","purpose":"home-visit"}`
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/young-people/amara/grants", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	resp, err := amara.Do(req)
	if err != nil {
		t.Fatalf("POST grants: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST grants = %d %s, want 201", resp.StatusCode, raw)
	}
}

// crashCheckpoint fetches (and so has Sayso sign) the latest checkpoint and
// returns the tree size it names.
func crashCheckpoint(t *testing.T, base string, c *http.Client) int64 {
	t.Helper()
	resp, err := c.Get(base + "/v1/log/checkpoint")
	if err != nil {
		t.Fatalf("GET /v1/log/checkpoint: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(string(raw), "\n")
	if resp.StatusCode != http.StatusOK || len(lines) < 3 {
		t.Fatalf("GET /v1/log/checkpoint = %d %q, want 200 and a checkpoint", resp.StatusCode, raw)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		t.Fatalf("checkpoint size line %q: %v", lines[1], err)
	}
	return size
}

type readerResult struct {
	acked []int64
	at    []time.Time // when each acknowledged answer had arrived
	other map[int]int
}

// readLoop reads Amara's address as Sam until stop is closed or, if budget
// is not nil, the budget of reads it shares with other loops is spent,
// keeping the log index of every 200 answer that arrived whole and parsed.
func readLoop(t *testing.T, base string, sam *http.Client, budget *atomic.Int64, stop <-chan struct{}, out chan<- readerResult) {
	// No contract checks here: they would cost time between reads, and the
	// answers are checked field by field below.
	c := &http.Client{Jar: sam.Jar, Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	res := readerResult{other: map[int]int{}}
	defer func() { out <- res }()
	for {
		select {
		case <-stop:
			return
		default:
		}
		if budget != nil && budget.Add(-1) < 0 {
			return
		}
		resp, err := c.Get(base + "/v1/young-people/amara/records/address?purpose=home-visit")
		if err != nil {
			// Killed, or not there yet; nothing was acknowledged.
			time.Sleep(time.Millisecond)
			continue
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			continue // cut off by the kill
		}
		if resp.StatusCode != http.StatusOK {
			res.other[resp.StatusCode]++
			continue
		}
		var body struct {
			LogIndex *int64 `json:"logIndex"`
			Records  []struct {
				Content string `json:"content"`
			} `json:"records"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			// A 200 whose body arrived whole but does not parse is a bug,
			// not a crash: the length is checked by the HTTP client.
			t.Errorf("read answered 200 with %q: %v", raw, err)
			continue
		}
		if body.LogIndex == nil || len(body.Records) != 1 || !strings.Contains(body.Records[0].Content, "Willow Road") {
			t.Errorf("read answered 200 with %s, want Amara's address and a logIndex", raw)
			continue
		}
		res.acked = append(res.acked, *body.LogIndex)
		res.at = append(res.at, time.Now())
	}
}
