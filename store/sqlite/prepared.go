package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// Statements are prepared once per pool and kept. Without this every query
// is parsed and planned again: under `sayso bench` that was a fifth of the
// CPU of a purpose-bound read (sqlite3_prepare_v2 in the profile). A
// database/sql Stmt prepares itself on each connection of its pool as it is
// first used there, and its rows are reset when closed, so a kept statement
// holds no read snapshot between calls.

// maxPrepared bounds each pool's cache; queries built with a variable
// number of placeholders (LogHashes) or filters (DisclosuresBy) beyond it
// run unprepared, as before.
const maxPrepared = 128

// pool is a database/sql pool with the statements kept for it.
type pool struct {
	*sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt // nil once closed
}

func newPool(db *sql.DB) *pool { return &pool{DB: db, stmts: map[string]*sql.Stmt{}} }

// close closes the kept statements, then the pool.
func (p *pool) close() error {
	p.mu.Lock()
	for _, st := range p.stmts {
		st.Close()
	}
	p.stmts = nil
	p.mu.Unlock()
	return p.DB.Close()
}

// prepared returns the kept statement for query, preparing it if need be,
// or nil when it cannot (the cache is full or closed, or preparing failed:
// the caller then runs the query directly, which reports any error itself).
func (p *pool) prepared(ctx context.Context, query string) *sql.Stmt {
	p.mu.Lock()
	st, ok := p.stmts[query]
	full := p.stmts == nil || len(p.stmts) >= maxPrepared
	p.mu.Unlock()
	if ok || full {
		return st
	}
	// Prepared without the lock: preparing waits for a free connection,
	// and the goroutines holding them may need the cache to finish.
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept, ok := p.stmts[query]; ok || p.stmts == nil || len(p.stmts) >= maxPrepared {
		st.Close()
		return kept // nil when the cache is full or closed: run it directly
	}
	p.stmts[query] = st
	return st
}

func queryRow(ctx context.Context, db *pool, query string, args ...any) *sql.Row {
	if st := db.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.QueryRowContext(ctx, query, args...)
}

func queryRows(ctx context.Context, db *pool, query string, args ...any) (*sql.Rows, error) {
	if st := db.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.QueryContext(ctx, query, args...)
}

func execQuery(ctx context.Context, db *pool, query string, args ...any) (sql.Result, error) {
	if st := db.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.ExecContext(ctx, query, args...)
}
