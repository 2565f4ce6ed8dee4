package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sayso/consent"
	"sayso/internal/testenv"
	"sayso/internal/wire"
)

// seedLog makes a data dir whose log has n entries and checkpoints at the
// given sizes.
func seedLog(t *testing.T, n int, checkpointAt ...int) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	app, err := wire.Build(ctx, testenv.Logger(t), wire.Options{DataDir: dir, Dev: true, PublicURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		d := consent.Disclosure{At: time.Now(), ActorID: "sam", ActorName: "Sam Patel", ActorRole: consent.RoleSocialWorker,
			OrganisationID: "riverside-council", YoungPersonID: "amara", Category: "address", Purpose: "home-visit",
			LawfulBasis: consent.BasisConsent, Channel: consent.ChannelAPI, Outcome: consent.OutcomeDisclosed, GrantID: fmt.Sprint("g-", i)}
		if _, err := app.Log.Record(ctx, d); err != nil {
			t.Fatal(err)
		}
		for _, c := range checkpointAt {
			if c == i+1 {
				if _, _, err := app.Log.Checkpoint(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func tamper(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "sayso.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("tamper %q: %v", s, err)
		}
	}
}

func TestVerifyLog_Tampering(t *testing.T) {
	pristine := seedLog(t, 50, 20, 50)
	tests := []struct {
		name      string
		stmts     []string
		wantCode  int
		wantIndex int
	}{
		{"Intact", nil, 0, -1},
		{"OneByteChanged", []string{`UPDATE log_entries SET data = CAST(replace(CAST(data AS TEXT), 'Sam Patel', 'Sam Potel') AS BLOB) WHERE idx = 17`}, 1, 17},
		{"EntryDeleted", []string{`DELETE FROM log_entries WHERE idx = 23`}, 1, 23},
		{"TwoSwapped", []string{
			`UPDATE log_entries SET idx = -1 WHERE idx = 5`,
			`UPDATE log_entries SET idx = 5 WHERE idx = 9`,
			`UPDATE log_entries SET idx = 9 WHERE idx = -1`}, 1, 5},
		{"Truncated", []string{`DELETE FROM log_entries WHERE idx >= 40`, `DELETE FROM log_hashes WHERE idx >= 78`}, 1, 40},
		{"EntryInserted", []string{`UPDATE log_entries SET idx = idx + 1000 WHERE idx >= 30`, `UPDATE log_entries SET idx = idx - 999 WHERE idx >= 1000`,
			`INSERT INTO log_entries SELECT 30, data, at, young_person_id, actor_id, organisation_id, category, purpose, lawful_basis, outcome FROM log_entries WHERE idx = 0`}, 1, 30},
		{"LookupColumnChanged", []string{`UPDATE log_entries SET category = 'health' WHERE idx = 3`}, 1, 3},
		{"CheckpointForged", []string{`UPDATE log_checkpoints SET signed = CAST(replace(CAST(signed AS TEXT), char(10) || '20' || char(10), char(10) || '21' || char(10)) AS BLOB) WHERE size = 20`}, 1, 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, pristine)
			tamper(t, dir, tt.stmts...)
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"verify-log", "--data-dir", dir, "--quiet"}, envOf(nil), &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("verify-log exit = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out.String(), errOut.String())
			}
			if tt.wantIndex >= 0 && !strings.Contains(out.String(), fmt.Sprintf("first bad index: %d\n", tt.wantIndex)) {
				t.Errorf("verify-log output = %q, want it to name index %d", out.String(), tt.wantIndex)
			}
			if tt.wantIndex < 0 && !strings.HasPrefix(out.String(), "OK: 50 entries and 2 signed checkpoints") {
				t.Errorf("verify-log output = %q, want OK with 50 entries and 2 checkpoints", out.String())
			}
		})
	}
}

func TestVerifyLog_ClearErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"verify-log", "--data-dir", t.TempDir()}, envOf(nil), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "there is no Sayso store") {
		t.Errorf("verify-log on an empty folder = %d %q, want 2 and a clear message", code, errOut.String())
	}
}
