package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// describeMachine says what the figures were measured on.
func describeMachine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = fmt.Sprintf("; load average %s %s %s at the start", f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("nproc %d (%s)%s%s, %s %s/%s%s", runtime.NumCPU(), cpu, mem, kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}

// countWords writes 1000 as 10^3 and other counts with thousands commas.
func countWords(n int) string {
	if n > 0 {
		e := math.Log10(float64(n))
		if e == math.Trunc(e) {
			return fmt.Sprintf("10^%d", int(e))
		}
	}
	return thousands(int64(n))
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtMS(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func fmtUS(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func fmtMiB(b int64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func fmtRate(r float64) string { return thousands(int64(math.Round(r))) }

func ratio(r benchResult, floor benchResult) string {
	if floor.Throughput == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", r.Throughput/floor.Throughput)
}

func workloadLabel(r benchResult) string {
	switch r.Name {
	case "reads":
		return "reads (a), peak"
	case "paced":
		return fmt.Sprintf("reads (a) paced at %s/s", fmtRate(r.Rate))
	case "decisions":
		return "holder decisions (b)"
	case "mixed":
		return "mixed (c)"
	case "floor":
		return "floor: store append"
	case "floor-serial":
		return "floor, one writer"
	}
	return r.Name
}

// workloadRows are the rows of the workload table for run.
func workloadRows(run benchRun) []string {
	var rows []string
	row := func(r benchResult) {
		rows = append(rows, fmt.Sprintf("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %d of %s | %s |",
			countWords(run.Grants), workloadLabel(r), r.Clients, fmtRate(r.Throughput), fmtMS(r.P50), fmtMS(r.P99), fmtMS(r.P999),
			ratio(r, run.Floor), fmtUS(r.CPUPerRequest()), r.Errors, thousands(int64(r.Requests)), fmtMiB(r.PeakRSS)))
	}
	row(run.Floor)
	row(run.FloorSerial)
	for _, r := range run.Results {
		row(r)
	}
	return rows
}

// sizeRow is the row of the per-size table for run.
func sizeRow(run benchRun, cfg benchConfig) string {
	return fmt.Sprintf("| %s | %s | %s | %s (%s records/s) | %s | %s | %s | %s | %s | %s, %d clients, %v per workload |",
		countWords(run.Grants), thousands(int64(run.People))+" ("+thousands(int64(run.Active))+")",
		thousands(int64(run.Pros))+" ("+thousands(int64(run.ActivePros))+")", run.Seeded.Round(time.Second),
		fmtRate(float64(run.SeedWrites)/run.Seeded.Seconds()), fmtMiB(run.StoreBytes), fmtMS(run.Startup), fmtMS(run.Restart),
		thousands(run.LogEntries), fmtMiB(run.RSSIdle), time.Now().Format("2006-01-02"), cfg.Clients, cfg.Duration)
}

func printRun(w io.Writer, cfg benchConfig, run benchRun) {
	fmt.Fprintf(w, "\n%s\n%s\n", workloadHeader, strings.Join(workloadRows(run), "\n"))
	fmt.Fprintf(w, "\n%s\n%s\n", sizeHeader, sizeRow(run, cfg))
	for _, p := range run.Profiles {
		fmt.Fprintf(w, "profile: %s (go tool pprof -top %s)\n", p, p)
	}
}

const (
	workloadHeader = "| grants | workload | clients | req/s | p50 | p99 | p99.9 | ÷ floor | CPU per request | errors | Sayso peak RSS |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	sizeHeader     = "| grants | young people (active) | professionals (active) | seeding | store on disk | start-up | restart after load | log entries written | RSS after start-up | measured |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	benchStart     = "<!-- bench:start -->"
	benchEnd       = "<!-- bench:end -->"
)

// writeBenchDoc rewrites the part of path between the bench markers (adding
// them at the end if absent). Rows of earlier runs for grants figures this
// run did not measure are kept, so sizes can be measured in separate runs.
func writeBenchDoc(path string, cfg benchConfig, machine string, runs []benchRun) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(old)
	before, after := doc, ""
	var kept [2][]string
	if i := strings.Index(doc, benchStart); i >= 0 {
		j := strings.Index(doc[i:], benchEnd)
		if j < 0 {
			return fmt.Errorf("%s has %s but no %s", path, benchStart, benchEnd)
		}
		before, after = doc[:i], doc[i+j+len(benchEnd):]
		kept = keptRows(doc[i:i+j], runs)
	} else if !strings.HasSuffix(before, "\n\n") {
		before = strings.TrimRight(before, "\n") + "\n\n"
	}
	var workRows, sizeRows []string
	for _, run := range runs {
		workRows = append(workRows, workloadRows(run)...)
		sizeRows = append(sizeRows, sizeRow(run, cfg))
	}
	workRows = sortRows(append(kept[0], workRows...))
	sizeRows = sortRows(append(kept[1], sizeRows...))
	var b strings.Builder
	b.WriteString(benchStart + "\n")
	b.WriteString("<!-- Written by `sayso bench`; it rewrites everything between these markers. -->\n\n")
	fmt.Fprintf(&b, "Machine: %s.\n\n", machine)
	extra := ""
	if cfg.Active != 10000 && cfg.Active != 0 {
		extra += fmt.Sprintf(" --active %d", cfg.Active)
	}
	if cfg.PacedRate > 0 {
		extra += fmt.Sprintf(" --paced-rate %g", cfg.PacedRate)
	}
	fmt.Fprintf(&b, "Last run: `sayso bench --grants %s --clients %d --duration %v --warmup %v%s`.\n\n", grantsFlag(runs), cfg.Clients, cfg.Duration, cfg.Warmup, extra)
	b.WriteString(workloadHeader + "\n" + strings.Join(workRows, "\n") + "\n\n")
	b.WriteString(sizeHeader + "\n" + strings.Join(sizeRows, "\n") + "\n")
	b.WriteString(benchEnd)
	return os.WriteFile(path, []byte(before+b.String()+after), 0o644)
}

func grantsFlag(runs []benchRun) string {
	var s []string
	for _, r := range runs {
		s = append(s, strings.Replace(countWords(r.Grants), "10^", "1e", 1))
	}
	return strings.Join(s, ",")
}

// keptRows returns the rows of the old section's two tables whose grants
// figure none of runs measured.
func keptRows(section string, runs []benchRun) [2][]string {
	var out [2][]string
	table := -1
	sc := bufio.NewScanner(strings.NewReader(section))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, strings.SplitN(workloadHeader, "\n", 2)[0]):
			table = 0
			continue
		case strings.HasPrefix(line, strings.SplitN(sizeHeader, "\n", 2)[0]):
			table = 1
			continue
		case !strings.HasPrefix(line, "| ") || table < 0:
			continue
		}
		g := rowGrants(line)
		if g < 0 || slices.ContainsFunc(runs, func(r benchRun) bool { return r.Grants == g }) {
			continue
		}
		out[table] = append(out[table], line)
	}
	return out
}

// rowGrants reads the grants figure in a row's first cell, or -1.
func rowGrants(line string) int {
	cells := strings.Split(line, "|")
	if len(cells) < 3 {
		return -1
	}
	c := strings.TrimSpace(cells[1])
	if e, ok := strings.CutPrefix(c, "10^"); ok {
		n, err := strconv.Atoi(e)
		if err != nil {
			return -1
		}
		return int(math.Pow10(n))
	}
	n, err := strconv.Atoi(strings.ReplaceAll(c, ",", ""))
	if err != nil {
		return -1
	}
	return n
}

// sortRows orders rows by grants, keeping the order within one figure.
func sortRows(rows []string) []string {
	slices.SortStableFunc(rows, func(a, b string) int { return rowGrants(a) - rowGrants(b) })
	return rows
}
