package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBench_Smoke runs `sayso bench --smoke` against the real binary on
// every `go test ./...`, so the harness keeps working as Sayso changes. It
// checks that every workload ran without a failed or unexpected answer; it
// asserts no speed.
func TestBench_Smoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sayso")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build = %v\n%s", err, out)
	}
	doc := filepath.Join(t.TempDir(), "PERFORMANCE.md")
	if err := os.WriteFile(doc, []byte("# Performance\n\nKept.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "--smoke", "--quiet", "--binary", bin, "--work-dir", t.TempDir(), "--seed-in", t.TempDir(), "--doc", doc}
	if code := run(ctx, args, func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("sayso %s = exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, w := range []string{"reads (a), peak", "reads (a) paced", "holder decisions (b)", "mixed (c)", "floor: store append"} {
		row := findRow(out, w)
		if row == "" {
			t.Errorf("no %q row in the output:\n%s", w, out)
			continue
		}
		// The errors column reads "0 of N": no request failed or got an
		// answer other than the one the seeded world implies.
		if !strings.Contains(row, "| 0 of ") || strings.Contains(row, "| 0 of 0 |") {
			t.Errorf("%q row has failed requests, or none at all: %s", w, row)
		}
	}
	written, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(written), "# Performance\n\nKept.\n") || !strings.Contains(string(written), benchStart) ||
		!strings.Contains(string(written), "| 10^3 | mixed (c) |") {
		t.Errorf("--doc wrote:\n%s\nwant the old text, then the bench section with the 10^3 rows", written)
	}
}

func findRow(out, workload string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Contains(line, "| "+workload) {
			return line
		}
	}
	return ""
}

// TestWriteBenchDoc_KeepsOtherSizesAndText checks that a run rewrites only
// its own sizes' rows, inside the markers, and nothing else in the file.
func TestWriteBenchDoc_KeepsOtherSizesAndText(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "PERFORMANCE.md")
	if err := os.WriteFile(doc, []byte("# Title\n\nBefore.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := benchConfig{Clients: 8, Duration: time.Second}
	result := func(name string, rps float64) benchResult {
		return benchResult{Name: name, Clients: 8, Requests: int(rps), Throughput: rps, P50: time.Millisecond, P99: 5 * time.Millisecond, P999: 9 * time.Millisecond}
	}
	run := func(grants int, rps float64) benchRun {
		return benchRun{Grants: grants, People: grants / 10, Floor: result("floor", 10*rps), FloorSerial: result("floor-serial", rps),
			Seeded: time.Second, Results: []benchResult{result("reads", rps), result("mixed", rps/2)}}
	}
	if err := writeBenchDoc(doc, cfg, "test machine", []benchRun{run(1000, 100), run(100000, 200)}); err != nil {
		t.Fatal(err)
	}
	// Text after the section is kept too.
	b, _ := os.ReadFile(doc)
	if err := os.WriteFile(doc, append(b, "\nAfter.\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeBenchDoc(doc, cfg, "test machine", []benchRun{run(1000, 300)}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(doc)
	got := string(b)
	for _, want := range []string{"# Title\n\nBefore.\n", "\nAfter.\n", "| 10^3 | reads (a), peak | 8 | 300 |", "| 10^5 | reads (a), peak | 8 | 200 |", "| 10^5 | 10,000 (0) |"} {
		if !strings.Contains(got, want) {
			t.Errorf("doc lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "| 10^3 | reads (a), peak | 8 | 100 |") {
		t.Errorf("the first run's 10^3 row survived the second run:\n%s", got)
	}
	if strings.Count(got, benchStart) != 1 || strings.Count(got, benchEnd) != 1 {
		t.Errorf("want one bench section:\n%s", got)
	}
	if i, j := strings.Index(got, "| 10^3 | reads"), strings.Index(got, "| 10^5 | reads"); i > j {
		t.Errorf("rows are not in order of size:\n%s", got)
	}
}
