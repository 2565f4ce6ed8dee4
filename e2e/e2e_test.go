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

	"sayso/consent"
	"sayso/internal/testenv"
)

// journeys run in this order against one Sayso: each may rely on what the
// ones before it did.
var journeys = []struct {
	test, journey string
	before        func(t *testing.T, env *testenv.Env) // changes a browser can't make: a clock, a leaver
}{
	{"YoungPersonShares", "YoungPersonShares", nil},
	{"ProfessionalAsksAndReads", "ProfessionalAsksAndReads", nil},
	{"AnswersRequest", "AnswersRequest", nil},
	{"ChangesEndDate", "ChangesEndDate", nil},
	{"ConcernReachesDPO", "ConcernReachesDPO", nil},
	{"FamilyActsForChild", "FamilyActsForChild", nil},
	{"StopSharing/JavaScript", "StopSharing", nil},
	{"StopSharing/NoJavaScript", "StopSharingNoJavaScript", nil},
	{"Story", "StoryTellOnce", nil},
	{"Statutory/Delayed", "StatutoryAccess", nil},
	{"Statutory/AfterReviewDate", "StatutoryAppears", func(t *testing.T, env *testenv.Env) { env.Clock.Advance(8 * 24 * time.Hour) }},
	{"FamilyRules", "FamilyRules", func(t *testing.T, env *testenv.Env) {
		// Sam reads Leo's social care information under a statutory duty:
		// Leo is told; his mum is not (social care is withheld from family).
		svc := env.App.Service
		a, err := svc.OpenStatutoryAccess(t.Context(), "sam", "leo", consent.NewStatutoryAccess{Categories: []string{"social-care"},
			Purpose: "child-protection-enquiry", Condition: "children-act-1989-s47", Reason: "A worry raised by school."})
		if err != nil {
			t.Fatalf("OpenStatutoryAccess(sam, leo) = %v", err)
		}
		q := consent.Question{YoungPersonID: "leo", ProfessionalID: "sam", Category: "social-care", Purpose: "child-protection-enquiry"}
		if r, err := svc.ReadRecords(t.Context(), q, consent.ChannelPortal); err != nil || !r.Verdict.Allowed {
			t.Fatalf("ReadRecords(sam, leo, statutory) = %+v, %v", r, err)
		}
		// Reviewed by the DPO, so Leo is told at once.
		if _, err := svc.MarkReviewed(t.Context(), "dana", "riverside-council", a.ID, ""); err != nil {
			t.Fatalf("MarkReviewed(dana) = %v", err)
		}
	}},
	{"Handover", "Handover", func(t *testing.T, env *testenv.Env) {
		// Amara shares her address with Sam again (earlier journeys stopped it).
		if _, _, err := env.App.Service.Grant(t.Context(), "amara", "amara", consent.NewGrant{ProfessionalID: "sam", Category: "address", Purpose: "home-visit"}); err != nil {
			t.Fatalf("Grant(amara, sam) = %v", err)
		}
	}},
	{"Handover/SamLeaves", "HandoverAfterLeaving", func(t *testing.T, env *testenv.Env) {
		if _, err := env.App.Service.EndMembership(t.Context(), "dana", "riverside-council", "m-sam"); err != nil {
			t.Fatalf("EndMembership(m-sam) = %v", err)
		}
	}},
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
			if j.before != nil {
				j.before(t, env)
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
