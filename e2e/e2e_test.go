// Package e2e runs Sayso's browser journeys: a real Sayso (internal/testenv)
// driven by headless Debian Chromium through playwright-core (journeys.mjs),
// with axe-core checking every page visited. Screenshots go to ../artefacts.
//
// It needs node, `npm ci --prefix e2e` and /usr/bin/chromium. Without them
// the test is skipped, saying why, unless SAYSO_REQUIRE_BROWSER=1 (as in
// CI), when it fails instead.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sayso/internal/testenv"
)

// journeys run in this order against one Sayso: each may rely on what the
// ones before it did.
var journeys = []struct{ test, journey string }{
	{"YoungPersonShares", "YoungPersonShares"},
	{"ProfessionalAsksAndReads", "ProfessionalAsksAndReads"},
	{"AnswersRequest", "AnswersRequest"},
	{"ChangesEndDate", "ChangesEndDate"},
	{"ConcernReachesDPO", "ConcernReachesDPO"},
	{"FamilyActsForChild", "FamilyActsForChild"},
	{"StopSharing/JavaScript", "StopSharing"},
	{"StopSharing/NoJavaScript", "StopSharingNoJavaScript"},
}

func chromiumPath() string {
	if p := os.Getenv("SAYSO_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// needs skips (or, when the browser is required, fails) for a missing tool.
func needs(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("SAYSO_REQUIRE_BROWSER") == "1" {
		t.Fatalf("SAYSO_REQUIRE_BROWSER=1 but %s", what)
	}
	t.Skipf("browser tests skipped: %s (set SAYSO_REQUIRE_BROWSER=1 to make this a failure)", what)
}

func TestPages(t *testing.T) {
	node, err := exec.LookPath("node")
	needs(t, err == nil, "node is not installed")
	_, err = os.Stat(filepath.Join("node_modules", "playwright-core", "package.json"))
	needs(t, err == nil, "e2e/node_modules is missing: run npm ci --prefix e2e")
	_, err = os.Stat(filepath.Join("node_modules", "axe-core", "axe.min.js"))
	needs(t, err == nil, "axe-core is missing: run npm ci --prefix e2e")
	_, err = os.Stat(chromiumPath())
	needs(t, err == nil, chromiumPath()+" is missing: apt-get install chromium")

	artefacts, err := filepath.Abs(filepath.Join("..", "artefacts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artefacts, 0o755); err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t)
	failed := false
	for _, j := range journeys {
		t.Run(j.test, func(t *testing.T) {
			if failed {
				t.Skip("an earlier journey failed, and this one builds on it")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "journeys.mjs", env.URL, artefacts, j.journey)
			cmd.Env = append(os.Environ(), "SAYSO_CHROMIUM="+chromiumPath())
			out, err := cmd.CombinedOutput()
			if err != nil {
				failed = true
				t.Fatalf("node journeys.mjs %s = %v, want success; output:\n%s", j.journey, err, out)
			}
			t.Logf("%s", out)
		})
	}
}
