package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sayso/consent"
	"sayso/consent/storetest"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), nil, path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) consent.Store {
		return open(t, filepath.Join(t.TempDir(), "sayso.db"))
	})
}

func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "sayso.db"))
	for _, tc := range []struct {
		db     *pool
		pragma string
		want   string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "2"}, // FULL
		{s.w, "foreign_keys", "1"},
		{s.w, "busy_timeout", "5000"},
		{s.r, "journal_mode", "wal"},
		{s.r, "synchronous", "2"},
		{s.r, "query_only", "1"},
		{s.r, "busy_timeout", "5000"},
	} {
		var got string
		if err := tc.db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			pool := "writer"
			if tc.db == s.r {
				pool = "readers"
			}
			t.Errorf("PRAGMA %s on %s = %s, want %s", tc.pragma, pool, got, tc.want)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sayso.db")
	s, err := Open(t.Context(), nil, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(t.Context(), nil, path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded, want ErrNewerSchema")
	}
	if !errors.Is(err, consent.ErrNewerSchema) {
		t.Errorf("Open error = %v, want ErrNewerSchema", err)
	}
	for _, want := range []string{path, "newer version of Sayso", "schema 9999", "--data-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error = %q, want it to mention %q", err, want)
		}
	}
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sayso.db")
	p := consent.Person{ID: "p1", Name: "Pat", Subject: "pat"}
	s, err := Open(t.Context(), nil, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePerson(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	if got, err := s.GetPerson(t.Context(), "p1"); err != nil || got != p {
		t.Errorf("GetPerson(p1) after reopen = %+v, %v, want %+v", got, err, p)
	}
	var rows, distinct, latest int64
	err = s.r.QueryRowContext(t.Context(),
		`SELECT COUNT(*), COUNT(DISTINCT version_id), MAX(version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&rows, &distinct, &latest)
	if err != nil {
		t.Fatal(err)
	}
	known := knownMigrations(t)
	if rows != distinct || latest != known {
		t.Errorf("goose_db_version has %d rows for %d versions up to %d, want each once up to %d", rows, distinct, latest, known)
	}
}

// knownMigrations is the number of the newest embedded migration.
func knownMigrations(t *testing.T) int64 {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded migrations: %v, %v", names, err)
	}
	var n int64
	for _, name := range names {
		var v int64
		for _, c := range filepath.Base(name) {
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		n = max(n, v)
	}
	return n
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "sayso.db")
	s := open(t, path)
	if err := s.CreatePerson(t.Context(), consent.Person{ID: "p1", Subject: "p1"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want fs.FileMode
	}{
		{dir, 0o700 | fs.ModeDir},
		{path, 0o600},
		{path + "-wal", 0o600},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tc.want {
			t.Errorf("mode of %s = %v, want %v", tc.path, fi.Mode(), tc.want)
		}
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

func TestExistingFileRestricted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sayso.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	open(t, path)
	if fi, err := os.Stat(path); err != nil || fi.Mode() != 0o600 {
		t.Errorf("mode of existing %s after Open = %v, %v, want 0600", path, fi.Mode(), err)
	}
}

func TestOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#d%20e", "sayso.db")
	s := open(t, path)
	if err := s.CreatePerson(t.Context(), consent.Person{ID: "p1", Subject: "p1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

func TestUnavailable(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "sayso.db"))
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.GetPerson(cancelled, "p1")
	if !errors.Is(err, consent.ErrUnavailable) {
		t.Errorf("GetPerson with cancelled context error = %v, want ErrUnavailable", err)
	}
	if err := s.CreatePerson(cancelled, consent.Person{ID: "p1"}); !errors.Is(err, consent.ErrUnavailable) {
		t.Errorf("CreatePerson with cancelled context error = %v, want ErrUnavailable", err)
	}
	s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, consent.ErrUnavailable) {
		t.Errorf("Ping after Close error = %v, want ErrUnavailable", err)
	}
	if err := s.UseOnce(t.Context(), "k", time.Now().Add(time.Hour)); !errors.Is(err, consent.ErrUnavailable) {
		t.Errorf("UseOnce after Close error = %v, want ErrUnavailable", err)
	}
}
