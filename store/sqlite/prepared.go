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

type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// caches maps each open pool (*sql.DB) to its statements.
var caches sync.Map

func keepStatements(db *sql.DB) { caches.Store(db, &stmtCache{stmts: map[string]*sql.Stmt{}}) }

// dropStatements closes db's kept statements; call it before db.Close.
func dropStatements(db *sql.DB) {
	v, ok := caches.LoadAndDelete(db)
	if !ok {
		return
	}
	c := v.(*stmtCache)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// prepared returns db's kept statement for query, preparing it if need be,
// or nil when it cannot (the cache is full or preparing failed: the caller
// then runs the query directly, which reports any error itself).
func prepared(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	v, ok := caches.Load(db)
	if !ok {
		return nil
	}
	c := v.(*stmtCache)
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxPrepared
	c.mu.Unlock()
	if ok || full {
		return st
	}
	// Prepared without the lock: preparing waits for a free connection,
	// and the goroutines holding them may need the cache to finish.
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.stmts[query]; ok || len(c.stmts) >= maxPrepared || c.stmts == nil {
		st.Close()
		return kept // nil when the cache is full or dropped: run it directly
	}
	c.stmts[query] = st
	return st
}

func queryRow(ctx context.Context, db *sql.DB, query string, args ...any) *sql.Row {
	if st := prepared(ctx, db, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.QueryRowContext(ctx, query, args...)
}

func queryRows(ctx context.Context, db *sql.DB, query string, args ...any) (*sql.Rows, error) {
	if st := prepared(ctx, db, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.QueryContext(ctx, query, args...)
}

func execQuery(ctx context.Context, db *sql.DB, query string, args ...any) (sql.Result, error) {
	if st := prepared(ctx, db, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.ExecContext(ctx, query, args...)
}
