package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// benchConfig is every setting of `sayso bench`.
type benchConfig struct {
	Grants    []int         // grants in the store, one run per figure
	Clients   int           // concurrent clients
	Active    int           // young people the load is about
	PacedRate float64       // rate of the paced workload; 0 for half the peak of reads
	Duration  time.Duration // measured time per workload
	Warmup    time.Duration // unmeasured time before each workload
	Workloads []string      // which workloads, in order
	Doc       string        // markdown file whose bench section is rewritten; "" for none
	WorkDir   string        // where data folders go; "" for a temporary folder
	Keep      bool          // keep the data folders
	Binary    string        // the sayso binary to start
	Profile   string        // folder for the child's CPU profiles; "" for none
	SeedIn    string        // folder to seed in before copying to the work folder; "" to seed in place
	Smoke     bool
	Quiet     bool // no progress bars
}

// benchWorkloads are the workloads in the order they run.
var benchWorkloads = []string{"reads", "paced", "decisions", "mixed"}

const benchUsage = `Usage: sayso bench [flags]

Seeds a fresh store with N young people holding ten grants each, starts this
sayso binary (serve --dev) on loopback and drives it with concurrent clients:

  reads      purpose-bound reads by signed-in professionals, half refused
  paced      the same reads at half the peak rate of "reads", for latency
  decisions  holder-system decisions (POST /v1/decisions), half denied
  mixed      mostly reads, some grants and stops, young people reading their feed

It also measures the floor: the store's durable append rate through the
disclosure log with Sayso's own batching, with the same number of writers.
Results are printed and written into the bench section of --doc.

Flags:
`

func benchCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseBench(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sayso bench: %v\n", err)
		return 2
	}
	if err := runBench(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "sayso bench: %v\n", err)
		return 1
	}
	return 0
}

func parseBench(args []string, stderr io.Writer) (benchConfig, error) {
	fs := flag.NewFlagSet("sayso bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	grants := fs.String("grants", "1e3,1e5", "grants in the store, comma-separated (1e3 = 1000; ten per young person); one run each")
	clients := fs.Int("clients", 32, "concurrent clients")
	pacedRate := fs.Float64("paced-rate", 0, "requests per second of the paced workload (default: half the peak rate of reads, or 1000 without it)")
	active := fs.Int("active", 10000, "young people the load is about (all of them if fewer), spread over the store")
	duration := fs.Duration("duration", 20*time.Second, "measured time per workload")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured time before each workload")
	workloads := fs.String("workloads", strings.Join(benchWorkloads, ","), "workloads to run, comma-separated")
	doc := fs.String("doc", "docs/PERFORMANCE.md", `markdown file whose "bench" section is rewritten with the results ("" for none)`)
	workDir := fs.String("work-dir", "", "folder for the seeded data (default: a temporary folder, removed afterwards)")
	keep := fs.Bool("keep", false, "keep the seeded data folders")
	binary := fs.String("binary", "", "the sayso binary to start (default: this program)")
	profile := fs.String("profile", "", "folder to save a CPU profile of Sayso for each workload (starts it with --pprof)")
	seedIn := fs.String("seed-in", defaultSeedIn(), "seed in this folder (a tmpfs, where a durable commit costs no disk flush), then copy the store to the work folder; \"\" seeds in place")
	smoke := fs.Bool("smoke", false, "a quick check that the harness works: 1e3 grants, 4 clients, about 3 s, writes no doc unless --doc is given")
	quiet := fs.Bool("quiet", false, "no progress bars")
	if err := fs.Parse(args); err != nil {
		return benchConfig{}, err
	}
	if fs.NArg() > 0 {
		return benchConfig{}, fmt.Errorf("bench takes no arguments, got %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	cfg := benchConfig{Clients: *clients, Active: *active, PacedRate: *pacedRate, Duration: *duration, Warmup: *warmup, Doc: *doc, WorkDir: *workDir,
		Keep: *keep, Binary: *binary, Profile: *profile, SeedIn: *seedIn, Smoke: *smoke, Quiet: *quiet}
	if cfg.Smoke {
		if !given["grants"] {
			*grants = "1e3"
		}
		if !given["clients"] {
			cfg.Clients = 4
		}
		if !given["duration"] {
			cfg.Duration = 500 * time.Millisecond
		}
		if !given["warmup"] {
			cfg.Warmup = 100 * time.Millisecond
		}
		if !given["doc"] {
			cfg.Doc = ""
		}
	}
	var problems []string
	for _, g := range strings.Split(*grants, ",") {
		n, err := parseCount(strings.TrimSpace(g))
		if err != nil || n < 100 || n%10 != 0 {
			problems = append(problems, fmt.Sprintf("--grants: %q is not a multiple of 10 from 100 up (such as 1e3 or 100000)", g))
			continue
		}
		cfg.Grants = append(cfg.Grants, n)
	}
	for _, w := range strings.Split(*workloads, ",") {
		w = strings.TrimSpace(w)
		ok := false
		for _, known := range benchWorkloads {
			ok = ok || w == known
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("--workloads: %q is not one of %s", w, strings.Join(benchWorkloads, ", ")))
			continue
		}
		cfg.Workloads = append(cfg.Workloads, w)
	}
	if cfg.PacedRate < 0 {
		problems = append(problems, "--paced-rate: must not be negative")
	}
	if cfg.Active < 1 {
		problems = append(problems, "--active: must be at least 1")
	}
	if cfg.Clients < 1 || cfg.Clients > 4096 {
		problems = append(problems, "--clients: must be from 1 to 4096")
	}
	if cfg.Duration <= 0 || cfg.Warmup < 0 {
		problems = append(problems, "--duration must be positive and --warmup not negative")
	}
	if len(problems) > 0 {
		return cfg, errors.New(strings.Join(problems, "\n"))
	}
	if cfg.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return cfg, fmt.Errorf("cannot find this program to start it: %w; give --binary", err)
		}
		cfg.Binary = exe
	}
	return cfg, nil
}

// parseCount reads 1000, 1e3 or 1_000.
func parseCount(s string) (int, error) {
	s = strings.ReplaceAll(s, "_", "")
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return int(f), nil
}

// runBench runs every grants figure in turn and reports.
func runBench(ctx context.Context, cfg benchConfig, stdout, stderr io.Writer) error {
	work := cfg.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "sayso-bench-")
		if err != nil {
			return err
		}
		work = dir
		if !cfg.Keep {
			defer os.RemoveAll(dir)
		}
	}
	if cfg.Profile != "" {
		if err := os.MkdirAll(cfg.Profile, 0o755); err != nil {
			return err
		}
	}
	machine := describeMachine()
	fmt.Fprintf(stdout, "machine: %s\n", machine)
	var runs []benchRun
	for _, grants := range cfg.Grants {
		run, err := benchOne(ctx, cfg, work, grants, stdout, stderr)
		if err != nil {
			return fmt.Errorf("%s grants: %w", countWords(grants), err)
		}
		runs = append(runs, run)
		printRun(stdout, cfg, run)
	}
	if cfg.Doc != "" {
		if err := writeBenchDoc(cfg.Doc, cfg, machine, runs); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote the results into %s\n", cfg.Doc)
	}
	return nil
}

// benchRun is what one grants figure measured.
type benchRun struct {
	Grants      int
	People      int // young people
	Pros        int // professionals
	Active      int // young people the load is about
	ActivePros  int // professionals with grants about them
	Seeded      time.Duration
	SeedWrites  int
	StoreBytes  int64
	Floor       benchResult // the store's durable append rate, Clients writers
	FloorSerial benchResult // the same with one writer: one commit per entry
	Startup     time.Duration
	Restart     time.Duration // median of three later starts, after the workloads grew the log
	RSSIdle     int64         // VmRSS after start-up, bytes
	Results     []benchResult
	LogEntries  int64 // disclosure log entries written by the run
	Profiles    []string
}

// benchOne seeds a fresh store with grants grants, measures the floor,
// starts Sayso and runs every workload against it.
func benchOne(ctx context.Context, cfg benchConfig, work string, grants int, stdout, stderr io.Writer) (benchRun, error) {
	run := benchRun{Grants: grants}
	dataDir := filepath.Join(work, fmt.Sprintf("grants-%d", grants))
	if err := os.RemoveAll(dataDir); err != nil {
		return run, err
	}
	addr, err := benchFreeAddr()
	if err != nil {
		return run, err
	}
	w := newBenchWorld(grants, cfg.Active, "http://"+addr)
	run.People, run.Pros, run.Active, run.ActivePros = w.people, w.pros, len(w.active), len(w.activePros)
	fmt.Fprintf(stdout, "\n== %s grants: %d young people, %d professionals; the load is about %d of them and %d professionals; seeding %s\n",
		countWords(grants), w.people, w.pros, len(w.active), len(w.activePros), dataDir)
	started := time.Now()
	seedDir := dataDir
	// The store takes about 520 bytes per grant (5.1 GB at 10^7); seed in
	// place when the fast folder has not twice that free.
	if cfg.SeedIn != "" && freeBytes(cfg.SeedIn) < int64(grants)*1040 {
		fmt.Fprintf(stdout, "%s has too little free space for %s grants; seeding in place (slower)\n", cfg.SeedIn, countWords(grants))
	} else if cfg.SeedIn != "" {
		if seedDir, err = os.MkdirTemp(cfg.SeedIn, "sayso-bench-seed-"); err != nil {
			return run, err
		}
		defer os.RemoveAll(seedDir)
	}
	writes, err := w.seed(ctx, seedDir, cfg.Quiet, stderr)
	if err != nil {
		return run, fmt.Errorf("seed: %w", err)
	}
	if seedDir != dataDir {
		if err := copyTree(seedDir, dataDir); err != nil {
			return run, fmt.Errorf("copy the seeded store: %w", err)
		}
		os.RemoveAll(seedDir)
	}
	run.Seeded, run.SeedWrites = time.Since(started), writes
	run.StoreBytes = dirSize(dataDir)
	fmt.Fprintf(stdout, "seeded %d records in %v (%.0f records/s), store %s\n", writes, run.Seeded.Round(time.Millisecond),
		float64(writes)/run.Seeded.Seconds(), fmtMiB(run.StoreBytes))

	floorDir := filepath.Join(work, fmt.Sprintf("floor-%d", grants))
	floorDur := min(cfg.Duration, 10*time.Second)
	if run.Floor, err = measureFloor(ctx, floorDir, cfg.Clients, cfg.Warmup, floorDur); err != nil {
		return run, fmt.Errorf("floor: %w", err)
	}
	if run.FloorSerial, err = measureFloor(ctx, floorDir+"-serial", 1, cfg.Warmup, min(floorDur, 5*time.Second)); err != nil {
		return run, fmt.Errorf("floor: %w", err)
	}
	os.RemoveAll(floorDir)
	os.RemoveAll(floorDir + "-serial")
	fmt.Fprintf(stdout, "floor: %.0f durable appends/s with %d writers (p99 %s, CPU/append %s); %.0f/s with one writer\n",
		run.Floor.Throughput, cfg.Clients, fmtMS(run.Floor.P99), fmtUS(run.Floor.CPUPerRequest()), run.FloorSerial.Throughput)

	pprofAddr := ""
	if cfg.Profile != "" {
		if pprofAddr, err = benchFreeAddr(); err != nil {
			return run, err
		}
	}
	child, err := startBenchChild(ctx, cfg.Binary, dataDir, addr, pprofAddr)
	if err != nil {
		return run, err
	}
	defer child.stop()
	run.Startup = child.startup
	run.RSSIdle = child.rss()
	fmt.Fprintf(stdout, "sayso started in %v (exec to /readyz 200), RSS %s\n", run.Startup.Round(time.Millisecond), fmtMiB(run.RSSIdle))

	driver, err := newBenchDriver(ctx, w, child.base, cfg.Clients)
	if err != nil {
		return run, fmt.Errorf("%w; sayso logged:\n%s", err, child.logTail())
	}
	var peak float64
	for _, name := range cfg.Workloads {
		child.resetPeakRSS()
		var profile <-chan string
		if cfg.Profile != "" {
			profile = child.profile(ctx, cfg.Warmup, cfg.Duration, filepath.Join(cfg.Profile, fmt.Sprintf("grants-%d-%s.pprof", grants, name)))
		}
		var res benchResult
		switch name {
		case "reads":
			res = benchLoop(ctx, "reads", cfg.Clients, cfg.Warmup, cfg.Duration, 0, child.cpuTime, driver.read)
			peak = res.Throughput
		case "paced":
			rate := cfg.PacedRate
			if rate <= 0 {
				rate = peak / 2
			}
			if rate <= 0 {
				rate = 1000 // reads did not run: the design's fixed rate
			}
			res = benchLoop(ctx, "paced", cfg.Clients, cfg.Warmup, cfg.Duration, rate, child.cpuTime, driver.read)
		case "decisions":
			res = benchLoop(ctx, "decisions", cfg.Clients, cfg.Warmup, cfg.Duration, 0, child.cpuTime, driver.decide)
		case "mixed":
			res = benchLoop(ctx, "mixed", cfg.Clients, cfg.Warmup, cfg.Duration, 0, child.cpuTime, driver.mixed)
		}
		res.PeakRSS = child.peakRSS()
		if profile != nil {
			if p := <-profile; p != "" {
				run.Profiles = append(run.Profiles, p)
			}
		}
		run.Results = append(run.Results, res)
		fmt.Fprintf(stdout, "%-9s %8.0f req/s  p50 %7s  p99 %7s  p99.9 %7s  errors %d  peak RSS %s  CPU/req %s\n", name, res.Throughput,
			fmtMS(res.P50), fmtMS(res.P99), fmtMS(res.P999), res.Errors, fmtMiB(res.PeakRSS), fmtUS(res.CPUPerRequest()))
		for _, e := range res.FirstErrors {
			fmt.Fprintf(stdout, "          error: %s\n", e)
		}
		if ctx.Err() != nil {
			return run, ctx.Err()
		}
	}
	if err := child.stop(); err != nil {
		return run, err
	}
	if run.LogEntries, err = benchLogSize(ctx, dataDir); err != nil {
		return run, err
	}
	// Later starts find the log the workloads wrote: start-up must not grow
	// with it either. The median of three, as one start on a shared machine
	// can be slow for reasons of its own.
	var restarts []time.Duration
	for range 3 {
		again, err := startBenchChild(ctx, cfg.Binary, dataDir, addr, "")
		if err != nil {
			return run, err
		}
		restarts = append(restarts, again.startup)
		if err := again.stop(); err != nil {
			return run, err
		}
	}
	slices.Sort(restarts)
	run.Restart = restarts[1]
	fmt.Fprintf(stdout, "restarted in %v (median of %v) after the workloads added %d log entries\n", run.Restart.Round(time.Millisecond),
		restarts, run.LogEntries)
	if !cfg.Keep {
		os.RemoveAll(dataDir)
	}
	return run, nil
}

// defaultSeedIn is /dev/shm where it is a folder (Linux), else "".
func defaultSeedIn() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// copyTree copies the files under src to dst (which must not exist),
// keeping their modes, and flushes each to disk.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// benchFreeAddr returns a loopback address with a port nobody listens on.
func benchFreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
