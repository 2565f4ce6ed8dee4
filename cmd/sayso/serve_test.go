package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sayso/internal/apitest"
)

// TestServe_DevFreshStart runs the real binary as the README does, signs in
// as Amara the way the README's curl does, and stops it with SIGTERM.
func TestServe_DevFreshStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "sayso")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build = %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	for round := range 2 { // the second start finds the data of the first
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--dev", "--addr", addr)
		cmd.Env = append(os.Environ(), "SAYSO_DATA_DIR="+dataDir)
		var logs strings.Builder
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := "http://" + addr
		waitReady(t, base)

		jar, _ := cookiejar.New(nil)
		c := apitest.Client(t, jar)
		resp, err := c.Get(base + "/login?login_hint=amara")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = c.Get(base + "/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		var me struct {
			ID    string
			Roles []struct{ Kind string }
		}
		json.NewDecoder(resp.Body).Decode(&me)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || me.ID != "amara" || len(me.Roles) == 0 || me.Roles[0].Kind != "young-person" {
			t.Errorf("round %d: GET /v1/me = %d %+v, want 200 amara as a young person", round, resp.StatusCode, me)
		}

		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("round %d: sayso after SIGTERM = %v, want a clean exit\n%s", round, err, logs.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("round %d: sayso did not stop within 20s of SIGTERM", round)
		}
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("log line is not JSON: %q", line)
			}
			for _, personal := range []string{"Amara", "Okafor", "Willow Road"} {
				if strings.Contains(line, personal) {
					t.Errorf("log line carries personal data %q: %s", personal, line)
				}
			}
		}
	}
	for _, f := range []string{"sayso.db", "keys/signing.ed25519", "keys/cookie.key"} {
		info, err := os.Stat(filepath.Join(dataDir, f))
		if err != nil {
			t.Errorf("stat %s: %v", f, err)
			continue
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("mode of %s = %v, want 0600", f, info.Mode().Perm())
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(t *testing.T, base string) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/readyz did not answer 200 within 20s", base)
}
