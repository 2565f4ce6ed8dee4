//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sayso/internal/storetestenv"
	"sayso/internal/wire"
)

// Settings of the power-loss test. These keep it near half a minute with
// -race on two cores (Sayso under strace answers about 300 reads a second).
const (
	powerReads      = 1200 // disclosures driven while traced
	powerReaders    = 4    // concurrent readers, so commits are grouped
	powerStartCuts  = 12   // cuts while Sayso starts on an empty folder
	powerRandomCuts = 55   // cuts anywhere among the disclosures
	powerAckCuts    = 55   // cuts just after an answer arrived
	powerCheckCuts  = 20   // cuts in WAL checkpoints: writes to sayso.db, WAL header rewritten
	powerStopCuts   = 6    // cuts while Sayso stops (checkpoint, WAL removed)
	powerServeEvery = 12   // restart Sayso on every n-th cut after start-up
	powerSelfCuts   = 30   // cuts the wrong model is tried on
)

// powerDataDir is the data folder's name in the traced run's root.
const powerDataDir = "data"

// powerAck is one acknowledged read: its log index and when its answer
// had arrived, in µs since 1970 like the trace's times.
type powerAck struct {
	Index int64
	At    int64
}

// powerRun is one traced run of Sayso, kept as JSON beside the trace when
// the test fails so that SAYSO_POWERLOSS_REPLAY can check it again.
type powerRun struct {
	Root  string // an empty folder; Sayso makes its data folder in it
	Trace string
	Acks  []powerAck
	Ready int64 // µs: Sayso answered /readyz
	End   int64 // µs: the last disclosure answered, before Sayso was stopped

	// The data folder read while Sayso was idle, WAL and all, between
	// times Idle and IdleEnd; not kept for a replay.
	Idle, IdleEnd int64             `json:"-"`
	IdleFiles     map[string][]byte `json:"-"`
}

// powerCut is one moment power is lost: right after line Line of the trace.
type powerCut struct {
	Line  int
	Phase string // "start-up", "disclosures" or "stop"
	Why   string
	Serve bool // also restart Sayso on the rebuilt folder
}

// TestPowerLoss runs the real binary under strace from an empty data
// folder, drives disclosures, and then rebuilds the folder as a machine
// losing power at many lines of the trace could have left it: every change
// that an fsync covered is kept; every later one is kept, dropped or torn.
// On each rebuilt folder every read acknowledged before the cut must have
// its entry, `sayso verify-log` must pass, and (on some) Sayso must start.
// A wrong model that forgets the WAL's latest fsync must lose an
// acknowledged entry at some cut, which shows the checks can fail.
//
// SAYSO_POWERLOSS_SEED=n replays the fates of unsynced changes;
// SAYSO_POWERLOSS_REPLAY=folder replays a kept trace (printed on failure).
func TestPowerLoss(t *testing.T) {
	started := time.Now()
	strace := straceOrSkip(t)
	seed := testSeed(t, "SAYSO_POWERLOSS_SEED", "the fates of unsynced changes")
	bin := buildSayso(t)
	built := time.Now()

	var run powerRun
	if dir := os.Getenv("SAYSO_POWERLOSS_REPLAY"); dir != "" {
		run = loadPowerRun(t, dir)
	} else {
		run = tracedRun(t, strace, bin)
		t.Cleanup(func() {
			if t.Failed() {
				keepPowerRun(t, run, seed)
			}
		})
	}
	traced := time.Now()
	tr, err := parseTrace(run.Trace, run.Root)
	if err != nil {
		t.Fatalf("parseTrace = %v, want nil", err)
	}
	info, _ := os.Stat(run.Trace)
	t.Logf("build %.1fs; Sayso under strace %.1fs; trace of %d lines (%.1f MiB) parsed in %.1fs: %.1f MiB written under the data folder, %d acknowledged reads",
		built.Sub(started).Seconds(), traced.Sub(built).Seconds(), tr.lines, float64(info.Size())/(1<<20), time.Since(traced).Seconds(),
		float64(tr.bytes)/(1<<20), len(run.Acks))
	ready, end := phaseLines(tr, run)
	for _, in := range tr.inodes {
		var during, restarts int
		for _, s := range in.syncs {
			if s.end >= ready && s.end < end {
				during++
			}
		}
		for _, op := range in.ops {
			if strings.HasSuffix(in.path, "-wal") && !op.trunc && op.off == 0 && op.start >= ready && op.start < end {
				restarts++ // a new WAL header: the WAL starts again after a checkpoint
			}
		}
		line := fmt.Sprintf("  %s: %d writes or truncations, %d name changes, %d syncs (%d during the disclosures)",
			in.path, len(in.ops), len(in.names), len(in.syncs), during)
		if restarts > 0 {
			line += fmt.Sprintf("; restarted %d times during the disclosures", restarts)
		}
		t.Log(line)
	}
	if len(run.Acks) == 0 {
		t.Fatalf("acknowledged reads = 0, want some: the test would check nothing")
	}

	work := t.TempDir()
	if os.Getenv("SAYSO_POWERLOSS_REPLAY") == "" {
		t.Run("ModelMatchesDisk", func(t *testing.T) {
			// With every change kept, the end of the trace must be the
			// folder Sayso left: otherwise the parser lost track of a
			// file, an offset or a name, and the cuts would mean little.
			all := newRebuilder(tr, durability{keepUnsynced: true})
			idle := sort.Search(len(tr.ts), func(i int) bool { return tr.ts[i] >= run.Idle }) - 1
			quiet := !slices.ContainsFunc(tr.events, func(l int) bool { return tr.ts[l] >= run.Idle && tr.ts[l] <= run.IdleEnd })
			if quiet {
				sameFiles(t, all, idle, filepath.Join(work, "idle"), run.IdleFiles)
			} else {
				t.Logf("Sayso wrote while the idle folder was read; compared at the end only")
			}
			sameFiles(t, all, tr.lines-1, filepath.Join(work, "end"), folderFiles(t, run.Root))
		})
	}

	cuts := choosePowerCuts(tr, run, rand.New(rand.NewPCG(seed, 0)))
	rb := newRebuilder(tr, durability{})
	var sum powerSummary
	// In line order: the rebuilder carries synced bytes from cut to cut.
	for _, phase := range []struct{ name, phase string }{{"StartUp", "start-up"}, {"Disclosures", "disclosures"}, {"Stop", "stop"}} {
		t.Run(phase.name, func(t *testing.T) {
			failed := 0
			for _, c := range cuts {
				if c.Phase != phase.phase {
					continue
				}
				if problem := checkPowerCut(t, bin, tr, run, rb, c, seed, work, &sum); problem != "" {
					t.Errorf("cut after line %d (%s, %s): %s", c.Line, c.Phase, c.Why, problem)
					if failed++; failed == 10 {
						t.Fatalf("stopping after %d failing cuts", failed)
					}
				}
			}
		})
	}

	t.Run("WrongModelLosesEntries", func(t *testing.T) {
		// Forget each WAL's latest completed fsync and drop everything
		// unsynced: an acknowledgement given before that fsync returned
		// would look like this, and the checks must see it.
		wrong := newRebuilder(tr, durability{
			ignoreLastSync: func(in *inode) bool { return strings.HasSuffix(in.path, "-wal") },
			dropUnsynced:   true,
		})
		tried, caught := 0, 0
		for _, c := range cuts {
			if !strings.HasPrefix(c.Why, "just after") || tried == powerSelfCuts {
				continue
			}
			tried++
			dir := filepath.Join(work, fmt.Sprintf("wrong-%d", c.Line))
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if _, err := wrong.rebuild(c.Line, dir, nil); err != nil {
				t.Fatalf("rebuild(%d) = %v, want nil", c.Line, err)
			}
			problems, err := storeAckProblems(filepath.Join(dir, powerDataDir), ackedBefore(run.Acks, cutTime(tr, c.Line)))
			// Only a missing entry counts, as ackedProblems words it.
			if err == nil && slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "is missing") }) {
				caught++
			}
			os.RemoveAll(dir)
		}
		t.Logf("the wrong model lost an acknowledged entry at %d of %d cuts just after an answer", caught, tried)
		sum.selfTried, sum.selfCaught = tried, caught
		if caught == 0 {
			t.Errorf("cuts where the wrong model lost an acknowledged entry = 0 of %d, want at least 1: the harness would not see an unsynced acknowledgement", tried)
		}
	})

	t.Logf("%s; %.1fs in all", sum, time.Since(started).Seconds())
}

// powerSummary counts what the cuts checked, for the log and the docs.
type powerSummary struct {
	cuts, checks, maxAcked, serves int
	lossy, torn, namesLost, nsCuts int
	phases                         map[string]int
	selfTried, selfCaught          int
}

func (s powerSummary) String() string {
	return fmt.Sprintf("%d cuts (%d start-up, %d disclosures, %d stop); %d acknowledged entries checked (up to %d at one cut); "+
		"%d cuts dropped or tore unsynced writes (%d torn writes), %d cuts lost unsynced name changes (%d of them); Sayso restarted on %d",
		s.cuts, s.phases["start-up"], s.phases["disclosures"], s.phases["stop"], s.checks, s.maxAcked,
		s.lossy, s.torn, s.nsCuts, s.namesLost, s.serves) +
		fmt.Sprintf("; the wrong model lost an acknowledged entry at %d of %d cuts", s.selfCaught, s.selfTried)
}

// checkPowerCut rebuilds the data folder at c and checks it; it returns
// what is wrong, or "".
func checkPowerCut(t *testing.T, bin string, tr *fsTrace, run powerRun, rb *rebuilder, c powerCut, seed uint64, work string, sum *powerSummary) string {
	t.Helper()
	dir := filepath.Join(work, fmt.Sprintf("cut-%d", c.Line))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Each cut draws from its own stream, so one cut can be replayed.
	st, err := rb.rebuild(c.Line, dir, rand.New(rand.NewPCG(seed, uint64(c.Line))))
	if err != nil {
		t.Fatalf("rebuild(%d) = %v, want nil", c.Line, err)
	}
	if sum.phases == nil {
		sum.phases = map[string]int{}
	}
	sum.cuts++
	sum.phases[c.Phase]++
	if st.dropped+st.torn > 0 {
		sum.lossy++
	}
	sum.torn += st.torn
	if st.namesLost > 0 {
		sum.nsCuts++
		sum.namesLost += st.namesLost
	}
	fail := func(format string, args ...any) string {
		return fmt.Sprintf(format, args...) + "; the cut: " + st.String()
	}
	dir = filepath.Join(dir, powerDataDir)

	acked := ackedBefore(run.Acks, cutTime(tr, c.Line))
	if c.Phase == "start-up" {
		// Nothing was acknowledged yet: Sayso must start on whatever is
		// there, and then its log must verify.
		if len(acked) > 0 {
			t.Fatalf("cut after line %d is in start-up but follows %d acknowledged reads", c.Line, len(acked))
		}
		if problem := serveOn(t, bin, dir); problem != "" {
			return fail("%s", problem)
		}
		sum.serves++
		if problem := verifyLogOn(bin, dir); problem != "" {
			return fail("after a restart, %s", problem)
		}
		return ""
	}
	// verify-log first, on the folder exactly as rebuilt.
	if problem := verifyLogOn(bin, dir); problem != "" {
		return fail("%s", problem)
	}
	problems, err := storeAckProblems(dir, acked)
	if err != nil {
		return fail("%v", err)
	}
	if len(problems) > 0 {
		return fail("%d of %d acknowledged entries wrong, first: %s", len(problems), len(acked), problems[0])
	}
	sum.checks += len(acked)
	sum.maxAcked = max(sum.maxAcked, len(acked))
	if c.Serve {
		if problem := serveOn(t, bin, dir); problem != "" {
			return fail("%s", problem)
		}
		sum.serves++
	}
	return ""
}

// verifyLogOn runs `sayso verify-log` on dir; it returns what is wrong, or "".
func verifyLogOn(bin, dir string) string {
	cmd := exec.Command(bin, "verify-log", "--data-dir", dir, "--quiet")
	cmd.Env = append(os.Environ(), storetestenv.Place{DataDir: dir}.Env()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || !strings.HasPrefix(stdout.String(), "OK") {
		return fmt.Sprintf("sayso verify-log = %v, stdout %q, stderr %q; want exit 0 and OK", err, stdout.String(), stderr.String())
	}
	return ""
}

// storeAckProblems opens the store in dir as Sayso does and lists what is
// wrong with the acknowledged entries.
func storeAckProblems(dir string, acked []int64) ([]string, error) {
	ctx := context.Background()
	store, err := wire.OpenStore(ctx, nil, dir, "", "")
	if err != nil {
		return nil, fmt.Errorf("wire.OpenStore(%s) = %v, want nil", dir, err)
	}
	defer store.Close()
	return ackedProblems(ctx, store, acked)
}

// serveOn starts `sayso serve --dev` on dir and stops it; it returns what is
// wrong, or "". A Sayso that refuses to start exits at once, so this does
// not wait for /readyz when the process is gone.
func serveOn(t *testing.T, bin, dir string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--dev", "--addr", addr, "--data-dir", dir)
	cmd.Env = append(os.Environ(), storetestenv.Place{DataDir: dir}.Env()...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
	}()
	for deadline := time.Now().Add(20 * time.Second); !readyz(addr); {
		select {
		case err := <-done:
			done <- err
			return fmt.Sprintf("sayso serve exited before it was ready: %v; it logged:\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			done <- <-done // its log is whole once it is gone
			return fmt.Sprintf("sayso serve not ready within 20s; it logged:\n%s", logs.String())
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err
		if err != nil {
			return fmt.Sprintf("sayso serve after SIGTERM = %v, want a clean exit; it logged:\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		return "sayso serve did not stop within 20s of SIGTERM"
	}
	return ""
}

// readyz says whether Sayso at addr answers /readyz with 200.
func readyz(addr string) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// tracedRun starts Sayso under strace on an empty folder, drives
// disclosures, stops Sayso and returns what happened.
func tracedRun(t *testing.T, strace, bin string) powerRun {
	t.Helper()
	// Sayso makes the data folder itself, as on a first start with the
	// default ./data, so that making it is in the trace too.
	root := t.TempDir()
	place := storetestenv.Place{DataDir: filepath.Join(root, powerDataDir)}
	trace := filepath.Join(t.TempDir(), "trace")
	srv := startSaysoUnder(t, append([]string{strace}, straceArgs(trace)...), bin, place)
	child := tracedChild(t, srv)
	run := powerRun{Root: root, Trace: trace, Ready: time.Now().UnixMicro()}

	amara := crashSignIn(t, srv.base, "amara")
	crashGrant(t, srv.base, amara)
	sam := crashSignIn(t, srv.base, "sam")
	crashCheckpoint(t, srv.base, sam)
	var budget atomic.Int64
	budget.Store(powerReads)
	stop := make(chan struct{})
	defer close(stop)
	results := make(chan readerResult, powerReaders)
	for range powerReaders {
		go readLoop(t, srv.base, sam, &budget, stop, results)
	}
	other := map[int]int{}
	for range powerReaders {
		r := <-results
		for i, idx := range r.acked {
			run.Acks = append(run.Acks, powerAck{Index: idx, At: r.at[i].UnixMicro()})
		}
		for status, n := range r.other {
			other[status] += n
		}
	}
	// A checkpoint over the whole log, which verify-log then checks at
	// every cut that has it.
	crashCheckpoint(t, srv.base, sam)
	run.End = time.Now().UnixMicro()
	// Nothing is asked of Sayso now, so the folder holds still while it
	// is read (ModelMatchesDisk checks that no call came in between).
	run.Idle = time.Now().UnixMicro()
	run.IdleFiles = folderFiles(t, root)
	run.IdleEnd = time.Now().UnixMicro()
	if len(other) > 0 {
		t.Logf("answers other than 200 while traced: %v", other)
	}

	// strace does not pass signals on; stop Sayso itself.
	if err := syscall.Kill(child, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to sayso (pid %d) = %v", child, err)
	}
	select {
	case err := <-srv.done:
		srv.done <- err
		if err != nil {
			t.Fatalf("sayso under strace after SIGTERM = %v, want a clean exit; it logged:\n%s", err, srv.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sayso under strace did not stop within 30s of SIGTERM")
	}
	srv.closeIdle()
	return run
}

// tracedChild is the pid of the Sayso that strace started. If the test
// fails before Sayso stops, it is killed (strace leaves it running).
func tracedChild(t *testing.T, srv *saysoProcess) int {
	t.Helper()
	pid := srv.cmd.Process.Pid
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	fields := strings.Fields(string(raw))
	if err != nil || len(fields) != 1 {
		t.Fatalf("children of strace (pid %d) = %q, %v; want one pid", pid, raw, err)
	}
	child, err := strconv.Atoi(fields[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case err := <-srv.done:
			srv.done <- err
		default:
			syscall.Kill(child, syscall.SIGKILL)
		}
	})
	return child
}

// straceOrSkip returns strace's path, skipping the test without it unless
// SAYSO_REQUIRE_STRACE=1.
func straceOrSkip(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("strace")
	if err == nil {
		// ptrace may be forbidden (containers, Yama); that is as good as
		// not having strace.
		if out, terr := exec.Command(path, "-qq", "-o", "/dev/null", "true").CombinedOutput(); terr != nil {
			err = fmt.Errorf("strace true = %v: %s", terr, bytes.TrimSpace(out))
		}
	}
	if err != nil {
		if os.Getenv("SAYSO_REQUIRE_STRACE") == "1" {
			t.Fatalf("strace cannot run (%v) and SAYSO_REQUIRE_STRACE=1: apt-get install strace", err)
		}
		t.Skipf("strace cannot run (%v): power-loss test skipped (SAYSO_REQUIRE_STRACE=1 makes this a failure)", err)
	}
	return path
}

// cutTime is when the power is lost at a cut after line: before the next
// line's time (strace stamps a call's return before the caller goes on).
func cutTime(tr *fsTrace, line int) int64 {
	if line+1 < len(tr.ts) {
		return tr.ts[line+1]
	}
	return math.MaxInt64
}

// ackedBefore lists the indexes of reads answered before time at.
func ackedBefore(acks []powerAck, at int64) []int64 {
	var out []int64
	for _, a := range acks {
		if a.At < at {
			out = append(out, a.Index)
		}
	}
	return out
}

// phaseLines are the first lines of the trace after Sayso was ready and
// after the last disclosure.
func phaseLines(tr *fsTrace, run powerRun) (ready, end int) {
	lineAt := func(us int64) int { return sort.Search(len(tr.ts), func(i int) bool { return tr.ts[i] >= us }) }
	return lineAt(run.Ready), lineAt(run.End)
}

// choosePowerCuts picks lines of the trace to lose power after: calls on
// the data folder during start-up, during the disclosures and while
// stopping, and the last line before answers arrived.
func choosePowerCuts(tr *fsTrace, run powerRun, rng *rand.Rand) []powerCut {
	ready, end := phaseLines(tr, run)
	pick := func(lo, hi, n int) []int {
		var events []int
		for _, e := range tr.events {
			if e >= lo && e < hi {
				events = append(events, e)
			}
		}
		slices.Sort(events)
		events = slices.Compact(events)
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		return events[:min(n, len(events))]
	}
	byLine := map[int]powerCut{}
	add := func(line int, why string) {
		if _, ok := byLine[line]; ok || line < 0 {
			return
		}
		phase := "disclosures"
		switch {
		case line < ready:
			phase = "start-up"
		case line >= end:
			phase = "stop"
		}
		byLine[line] = powerCut{Line: line, Phase: phase, Why: why}
	}
	for _, l := range pick(0, ready, powerStartCuts) {
		add(l, "a call on the data folder")
	}
	for _, l := range pick(ready, end, powerRandomCuts) {
		add(l, "a call on the data folder")
	}
	acks := slices.Clone(run.Acks)
	rng.Shuffle(len(acks), func(i, j int) { acks[i], acks[j] = acks[j], acks[i] })
	for _, a := range acks[:min(powerAckCuts, len(acks))] {
		// The last line before the answer arrived.
		add(sort.Search(len(tr.ts), func(i int) bool { return tr.ts[i] > a.At })-1, fmt.Sprintf("just after entry %d was answered", a.Index))
	}
	// Checkpoints are rare among the calls but are where the database
	// file is rewritten and the WAL starts again, so they get cuts of
	// their own.
	var checkpoint []int
	for _, in := range tr.inodes {
		for _, op := range in.ops {
			if filepath.Base(in.path) == "sayso.db" || (strings.HasSuffix(in.path, "-wal") && op.off == 0) {
				checkpoint = append(checkpoint, op.start, op.end)
			}
		}
		if filepath.Base(in.path) == "sayso.db" {
			for _, s := range in.syncs {
				checkpoint = append(checkpoint, s.start, s.end)
			}
		}
	}
	checkpoint = slices.DeleteFunc(checkpoint, func(l int) bool { return l < ready || l >= end })
	rng.Shuffle(len(checkpoint), func(i, j int) { checkpoint[i], checkpoint[j] = checkpoint[j], checkpoint[i] })
	for _, l := range checkpoint[:min(powerCheckCuts, len(checkpoint))] {
		add(l, "in a WAL checkpoint")
	}
	for _, l := range pick(end, tr.lines, powerStopCuts) {
		add(l, "a call on the data folder")
	}
	add(tr.lines-1, "the end of the trace")
	cuts := slices.SortedFunc(func(yield func(powerCut) bool) {
		for _, c := range byLine {
			if !yield(c) {
				return
			}
		}
	}, func(a, b powerCut) int { return a.Line - b.Line })
	n := 0
	for i := range cuts {
		if cuts[i].Phase != "start-up" {
			if n%powerServeEvery == 0 {
				cuts[i].Serve = true
			}
			n++
		}
	}
	return cuts
}

// sameFiles rebuilds the folder at line cut into dir and compares it with
// want, path by path.
func sameFiles(t *testing.T, rb *rebuilder, cut int, dir string, want map[string][]byte) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := rb.rebuild(cut, dir, nil); err != nil {
		t.Fatalf("rebuild(%d) = %v, want nil", cut, err)
	}
	got := folderFiles(t, dir)
	var size int
	for name, w := range want {
		size += len(w)
		if g, ok := got[name]; !ok {
			t.Errorf("rebuilt at line %d, the folder lacks %s (%d bytes on disk)", cut, name, len(w))
		} else if !bytes.Equal(g, w) {
			t.Errorf("rebuilt at line %d, %s = %d bytes, want the %d bytes on disk", cut, name, len(g), len(w))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("rebuilt at line %d, the folder has %s, which is not on disk", cut, name)
		}
	}
	t.Logf("at line %d: %d files, %d bytes, as on disk", cut, len(want), size)
}

// folderFiles reads every file under root but SQLite's -shm, by path.
func folderFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "-shm") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// keepPowerRun copies a failed run's trace where it survives the test.
func keepPowerRun(t *testing.T, run powerRun, seed uint64) {
	dir, err := os.MkdirTemp("", "sayso-powerloss-")
	if err != nil {
		t.Logf("keep the trace: %v", err)
		return
	}
	raw, err := os.ReadFile(run.Trace)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "trace"), raw, 0o600)
	}
	run.Trace = "trace"
	js, _ := json.MarshalIndent(run, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "run.json"), js, 0o600)
	}
	if err != nil {
		t.Logf("keep the trace: %v", err)
		return
	}
	t.Logf("trace kept: SAYSO_POWERLOSS_REPLAY=%s SAYSO_POWERLOSS_SEED=%d go test -run TestPowerLoss ./cmd/sayso/ checks the same cuts again", dir, seed)
}

func loadPowerRun(t *testing.T, dir string) powerRun {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "run.json"))
	var run powerRun
	if err == nil {
		err = json.Unmarshal(raw, &run)
	}
	if err != nil {
		t.Fatalf("SAYSO_POWERLOSS_REPLAY=%s: %v", dir, err)
	}
	run.Trace = filepath.Join(dir, run.Trace)
	if _, err := os.Stat(run.Trace); errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SAYSO_POWERLOSS_REPLAY=%s: no trace there", dir)
	}
	return run
}
