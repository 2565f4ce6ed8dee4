package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// benchChild is Sayso running as a child process, so that its start-up time
// and memory are its own.
type benchChild struct {
	cmd       *exec.Cmd
	base      string
	pprof     string
	startup   time.Duration
	logPath   string
	done      chan error
	stopOnce  sync.Once
	stopError error
}

// startBenchChild runs `sayso serve --dev` on addr over dataDir and waits
// for /readyz to answer 200. Start-up is the time from exec to that answer.
// Its log goes to sayso.log in dataDir.
func startBenchChild(ctx context.Context, binary, dataDir, addr, pprofAddr string) (*benchChild, error) {
	logPath := filepath.Join(dataDir, "sayso.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	// Rate limits are off (as by default in development mode): one holder
	// system and a few thousand professionals are to go as fast as Sayso
	// can serve them, not as fast as a council's limits allow.
	args := []string{"serve", "--dev", "--addr", addr, "--data-dir", dataDir, "--rate-limits", "off"}
	if pprofAddr != "" {
		args = append(args, "--pprof", pprofAddr)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Only what serve reads; nothing from the caller's SAYSO_* settings.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	// The Go runtime settings an operator might give Sayso pass through.
	for _, name := range []string{"GOMAXPROCS", "GOMEMLIMIT", "GOGC"} {
		if v := os.Getenv(name); v != "" {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	c := &benchChild{cmd: cmd, base: "http://" + addr, pprof: pprofAddr, logPath: logPath, done: make(chan error, 1)}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	go func() { c.done <- cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(c.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.startup = time.Since(started)
				return c, nil
			}
		}
		select {
		case err := <-c.done:
			c.done <- err
			return nil, fmt.Errorf("sayso exited before it was ready (%v); it logged:\n%s", err, c.logTail())
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(started) > 60*time.Second {
			c.stop()
			return nil, fmt.Errorf("sayso was not ready within 60 s; it logged:\n%s", c.logTail())
		}
	}
}

// stop sends SIGTERM and waits for a clean exit (SIGKILL after 30 s).
func (c *benchChild) stop() error {
	c.stopOnce.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-c.done:
			if err != nil {
				c.stopError = fmt.Errorf("sayso did not stop cleanly: %v; it logged:\n%s", err, c.logTail())
			}
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-c.done
			c.stopError = errors.New("sayso did not stop within 30 s of SIGTERM")
		}
	})
	return c.stopError
}

// logTail is the end of the child's log, for error messages.
func (c *benchChild) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// status reads one "Name:   123 kB" field of /proc/<pid>/status, in bytes.
func (c *benchChild) status(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// rss is the child's resident memory now.
func (c *benchChild) rss() int64 { return c.status("VmRSS") }

// peakRSS is the child's peak resident memory (VmHWM) since it started or
// since resetPeakRSS.
func (c *benchChild) peakRSS() int64 { return c.status("VmHWM") }

// resetPeakRSS sets VmHWM back to the current RSS (Linux: clear_refs 5), so
// each workload reports its own peak. Without permission the peak stays
// the peak since start.
func (c *benchChild) resetPeakRSS() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.cmd.Process.Pid), []byte("5"), 0)
}

// profile fetches a CPU profile of the child over the measured part of a
// workload and saves it at path; the channel yields path, or "" on failure.
func (c *benchChild) profile(ctx context.Context, warmup, duration time.Duration, path string) <-chan string {
	out := make(chan string, 1)
	go func() {
		select {
		case <-time.After(warmup):
		case <-ctx.Done():
			out <- ""
			return
		}
		secs := max(1, int(duration.Seconds()))
		client := &http.Client{Timeout: duration + 30*time.Second}
		resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.pprof, secs))
		if err != nil {
			out <- ""
			return
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
			out <- ""
			return
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			out <- ""
			return
		}
		// And what the heap holds at the end of the workload.
		if resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/heap", c.pprof)); err == nil {
			if b, err := io.ReadAll(resp.Body); err == nil && resp.StatusCode == http.StatusOK {
				_ = os.WriteFile(strings.TrimSuffix(path, ".pprof")+".heap.pprof", b, 0o644)
			}
			resp.Body.Close()
		}
		out <- path
	}()
	return out
}

// cpuTime is the CPU time the child has used (user and system, all
// threads), from /proc/<pid>/stat in clock ticks of 1/100 s.
func (c *benchChild) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it are plain.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
