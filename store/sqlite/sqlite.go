// Package sqlite is Sayso's embedded default store: one SQLite file, opened
// with the pure Go driver modernc.org/sqlite so the binary needs no cgo.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"sayso/consent"
	"sayso/internal/durable"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a consent.Store in one SQLite file.
type Store struct {
	w    *pool // the one writer connection
	r    *pool // a pool of read-only connections
	path string
	log  *slog.Logger
}

var _ consent.Store = (*Store)(nil)

// Connection settings. busy_timeout comes first so the others wait rather
// than fail while another process holds the file. WAL lets readers go on
// while the writer writes; synchronous=FULL makes every commit durable.
var (
	writeParams = []string{
		"_pragma=busy_timeout(5000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}
	readParams = []string{
		"_pragma=busy_timeout(5000)",
		"_pragma=synchronous(FULL)", // the last connection to close checkpoints
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
	}
)

// Open opens (creating if need be) the database at path and brings its
// schema up to date. A database written by a newer Sayso is refused with an
// error wrapping consent.ErrNewerSchema.
func Open(ctx context.Context, logger *slog.Logger, path string) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, log: logger}
	w, err := sql.Open("sqlite", dsn(abs, writeParams))
	if err != nil {
		return nil, err
	}
	s.w = newPool(w)
	// SQLite has one writer; queueing writes in database/sql avoids
	// SQLITE_BUSY storms between our own connections.
	s.w.SetMaxOpenConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.migrate(ctx); err != nil {
		s.w.Close()
		return nil, err
	}
	// Refuse to run on weaker durability than asked for, whatever the
	// driver or the file says: an acknowledged log entry must survive.
	var journal string
	var sync int
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
		s.w.Close()
		return nil, fail("read journal mode", err)
	}
	if err := s.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
		s.w.Close()
		return nil, fail("read synchronous", err)
	}
	if journal != "wal" || sync < 2 {
		s.w.Close()
		return nil, fmt.Errorf("%s: journal_mode=%s synchronous=%d; Sayso needs WAL with synchronous=FULL (2) or stronger", path, journal, sync)
	}
	// Opened after migrating, so every reader finds the file already in WAL.
	r, err := sql.Open("sqlite", dsn(abs, readParams))
	if err != nil {
		s.w.Close()
		return nil, err
	}
	s.r = newPool(r)
	s.r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fail("open", err)
	}
	// Expired one-time values mean nothing; drop them so the table stays small.
	if _, err := s.w.ExecContext(ctx, `DELETE FROM once WHERE expires <= ?`, time.Now().UnixMilli()); err != nil {
		s.Close()
		return nil, fail("prune one-time values", err)
	}
	return s, nil
}

// dsn builds a file: URI so that any character in the path is escaped.
func dsn(path string, params []string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: strings.Join(params, "&")}
	return u.String()
}

// prepareFile makes the parent directory (0700) and the database file (0600)
// before the driver does, so the driver's defaults (and the umask) never
// leave personal data readable by others. SQLite gives its -wal and -shm
// files the database file's mode.
func prepareFile(path string) error {
	if err := durable.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	// The file's name, before anything is committed into it.
	if err := durable.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync data directory: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("restrict database file: %w", err)
	}
	return nil
}

// migrate applies the embedded migrations with goose, after refusing a
// schema newer than the newest migration this binary knows.
func (s *Store) migrate(ctx context.Context) error {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.w.DB, dir,
		goose.WithSlog(s.log), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	current, known, err := p.GetVersions(ctx)
	if err != nil {
		return fail("read schema version", err)
	}
	if current > known {
		return &newerSchemaError{path: s.path, schema: current, known: known}
	}
	if _, err := p.Up(ctx); err != nil {
		return fail("migrate", err)
	}
	if current < known {
		s.log.Info("database schema updated", "path", s.path, "from", current, "to", known)
	}
	return nil
}

type newerSchemaError struct {
	path          string
	schema, known int64
}

func (e *newerSchemaError) Error() string {
	return fmt.Sprintf("%s was written by a newer version of Sayso (schema %d, this program knows up to %d); upgrade Sayso or use another --data-dir",
		e.path, e.schema, e.known)
}

func (e *newerSchemaError) Unwrap() error { return consent.ErrNewerSchema }

// Path returns the database file's path as given to Open.
func (s *Store) Path() string { return s.path }

// Ping checks that both the reader pool and the writer answer.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fail("ping", err)
	}
	return fail("ping", s.w.PingContext(ctx))
}

// Close releases both pools.
func (s *Store) Close() error {
	var err error
	if s.r != nil {
		err = s.r.close()
	}
	return errors.Join(err, s.w.close())
}

// fail maps a driver error onto the consent.Store error contract: no row is
// ErrNotFound, a taken unique value is ErrConflict, and anything else (a
// cancelled context, a closed or locked database, an I/O error) means the
// store could not do its part: ErrUnavailable.
func fail(op string, err error) error {
	var se *msqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, consent.ErrNotFound)
	case errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return fmt.Errorf("%s: %w", op, consent.ErrConflict)
	default:
		return fmt.Errorf("%s: %w: %w", op, consent.ErrUnavailable, err)
	}
}

// ms stores a time as unix milliseconds, the zero time as NULL.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS reads back what ms stored, in UTC.
func fromMS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// get reads one record, mapping no row to ErrNotFound.
func get[T any](ctx context.Context, db *pool, op string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(queryRow(ctx, db, query, args...))
	if err != nil {
		var zero T
		return zero, fail(op, err)
	}
	return v, nil
}

// list reads every record a query returns; none is an empty list.
func list[T any](ctx context.Context, db *pool, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := queryRows(ctx, db, query, args...)
	if err != nil {
		return nil, fail(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fail(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(op, err)
	}
	return out, nil
}

// exec runs one write and returns how many rows it changed.
func (s *Store) exec(ctx context.Context, op, query string, args ...any) (int64, error) {
	res, err := execQuery(ctx, s.w, query, args...)
	if err != nil {
		return 0, fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fail(op, err)
	}
	return n, nil
}
