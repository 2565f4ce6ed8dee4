package frontend

import (
	"strings"
	"testing"
	"time"
)

func TestNew_ParsesEveryPage(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatalf("New() = %v, want nil", err)
	}
	for _, name := range []string{"home", "error", "choose", "yp-home", "yp-sharing", "yp-stop", "work-ask", "dpo-disclosures"} {
		if !p.Has(name) {
			t.Errorf("Has(%q) = false, want true", name)
		}
	}
	if p.Has("layout") || p.Has("partials") {
		t.Errorf("Has(layout or partials) = true, want them only as parts of pages")
	}
}

func TestBannedPhrases_StartsWithTheIssueList(t *testing.T) {
	for _, want := range []string{"service user", "data subject", "case file", "placement", "contact arrangements"} {
		if !strings.Contains(BannedPhrases, "\n"+want+"\n") {
			t.Errorf("BannedPhrases lacks %q", want)
		}
	}
}

func TestDate(t *testing.T) {
	at := time.Date(2026, 3, 3, 23, 30, 0, 0, time.UTC) // 3 March in London (GMT)
	if got, want := Date(at), "3 March 2026"; got != want {
		t.Errorf("Date(%v) = %q, want %q", at, got, want)
	}
	summer := time.Date(2026, 7, 3, 23, 30, 0, 0, time.UTC) // already 4 July in London (BST)
	if got, want := DateTime(summer), "4 July 2026 at 12:30am"; got != want {
		t.Errorf("DateTime(%v) = %q, want %q", summer, got, want)
	}
	if got := Date(time.Time{}); got != "" {
		t.Errorf("Date(zero) = %q, want empty", got)
	}
}
