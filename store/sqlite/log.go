package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"sayso/consent"
)

// AppendLog writes a batch of entries and their tree hashes in one
// transaction: one fsync for the whole batch (group commit).
func (s *Store) AppendLog(ctx context.Context, first int64, entries []consent.LogEntry, hashes []consent.StoredHash) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail("append log", err)
	}
	defer tx.Rollback()
	var size int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries`).Scan(&size); err != nil {
		return fail("append log", err)
	}
	if size != first {
		return fmt.Errorf("append log at %d: the log has %d entries: %w", first, size, consent.ErrConflict)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO log_entries (idx, data, at, young_person_id, actor_id, organisation_id, category, purpose, lawful_basis, outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fail("append log", err)
	}
	defer ins.Close()
	for i, e := range entries {
		if e.Index != first+int64(i) {
			return fmt.Errorf("append log: entry %d of the batch has index %d: %w", i, e.Index, consent.ErrInvalid)
		}
		if _, err := ins.ExecContext(ctx, e.Index, e.Data, e.At.UnixMilli(), e.YoungPersonID, e.ActorID, e.OrganisationID, e.Category, e.Purpose, string(e.LawfulBasis), string(e.Outcome)); err != nil {
			return fail("append log", err)
		}
	}
	hs, err := tx.PrepareContext(ctx, `INSERT INTO log_hashes (idx, hash) VALUES (?, ?)`)
	if err != nil {
		return fail("append log", err)
	}
	defer hs.Close()
	for _, h := range hashes {
		if _, err := hs.ExecContext(ctx, h.Index, h.Hash[:]); err != nil {
			return fail("append log hashes", err)
		}
	}
	return fail("append log", tx.Commit())
}

// LogSize is one more than the largest index, which is the count while the
// log has no gaps (verify-log checks that it has none).
func (s *Store) LogSize(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries`).Scan(&n)
	return n, fail("log size", err)
}

// LogHashes reads hashes by storage index, in the order asked.
func (s *Store) LogHashes(ctx context.Context, indexes []int64) ([][32]byte, error) {
	out := make([][32]byte, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	pos := make(map[int64][]int, len(indexes))
	args := make([]any, 0, len(indexes))
	for i, x := range indexes {
		if _, seen := pos[x]; !seen {
			args = append(args, x)
		}
		pos[x] = append(pos[x], i)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT idx, hash FROM log_hashes WHERE idx IN (?`+strings.Repeat(",?", len(args)-1)+`)`, args...)
	if err != nil {
		return nil, fail("log hashes", err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, fail("log hashes", err)
		}
		if len(h) != 32 {
			return nil, fmt.Errorf("log hash %d has %d bytes: %w", idx, len(h), consent.ErrInvalid)
		}
		for _, i := range pos[idx] {
			copy(out[i][:], h)
		}
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, fail("log hashes", err)
	}
	if found != len(args) {
		return nil, fmt.Errorf("log hashes: %d of %d missing: %w", len(args)-found, len(args), consent.ErrNotFound)
	}
	return out, nil
}

const entryColumns = `idx, data, at, young_person_id, actor_id, organisation_id, category, purpose, lawful_basis, outcome`

func scanEntry(sc scanner) (consent.LogEntry, error) {
	var e consent.LogEntry
	var at sql.NullInt64
	var basis, outcome string
	err := sc.Scan(&e.Index, &e.Data, &at, &e.YoungPersonID, &e.ActorID, &e.OrganisationID, &e.Category, &e.Purpose, &basis, &outcome)
	e.At, e.LawfulBasis, e.Outcome = fromMS(at), consent.LawfulBasis(basis), consent.Outcome(outcome)
	return e, err
}

// LogEntries returns entries with from <= index < to.
func (s *Store) LogEntries(ctx context.Context, from, to int64) ([]consent.LogEntry, error) {
	return list(ctx, s.r, "log entries", scanEntry, `SELECT `+entryColumns+` FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx`, from, to)
}

// PutCheckpoint keeps the first checkpoint stored for a size.
func (s *Store) PutCheckpoint(ctx context.Context, size int64, signed []byte) error {
	_, err := s.exec(ctx, "put checkpoint", `INSERT INTO log_checkpoints (size, signed) VALUES (?, ?) ON CONFLICT (size) DO NOTHING`, size, signed)
	return err
}

// Checkpoint returns the checkpoint for size.
func (s *Store) Checkpoint(ctx context.Context, size int64) ([]byte, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT signed FROM log_checkpoints WHERE size = ?`, size).Scan(&b)
	return b, fail("checkpoint", err)
}

// LatestCheckpoint returns the checkpoint with the largest size.
func (s *Store) LatestCheckpoint(ctx context.Context) (int64, []byte, error) {
	var size int64
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT size, signed FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&size, &b)
	return size, b, fail("latest checkpoint", err)
}

// CheckpointSizes lists every checkpointed size, ascending.
func (s *Store) CheckpointSizes(ctx context.Context) ([]int64, error) {
	out, err := list(ctx, s.r, "checkpoint sizes", func(sc scanner) (int64, error) {
		var n int64
		return n, sc.Scan(&n)
	}, `SELECT size FROM log_checkpoints ORDER BY size`)
	if out == nil && err == nil {
		out = []int64{}
	}
	return out, err
}

// DisclosuresAbout lists what was shown of a young person, newest first.
func (s *Store) DisclosuresAbout(ctx context.Context, youngPersonID string, before int64, limit int) ([]consent.LogEntry, error) {
	if before < 0 {
		before = 1<<63 - 1
	}
	return list(ctx, s.r, "disclosures about", scanEntry,
		`SELECT `+entryColumns+` FROM log_entries WHERE young_person_id = ? AND outcome IN ('disclosed', 'permitted') AND idx < ? ORDER BY idx DESC LIMIT ?`, youngPersonID, before, limit)
}

// DisclosuresBy lists an organisation's entries matching f, oldest first.
func (s *Store) DisclosuresBy(ctx context.Context, organisationID string, f consent.DisclosureFilter, after int64, limit int) ([]consent.LogEntry, error) {
	q := `SELECT ` + entryColumns + ` FROM log_entries WHERE organisation_id = ? AND idx > ?`
	args := []any{organisationID, after}
	add := func(cond string, v any) {
		q += " AND " + cond
		args = append(args, v)
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("at < ?", f.To.UnixMilli())
	}
	for col, v := range map[string]string{"actor_id": f.ActorID, "young_person_id": f.YoungPersonID, "category": f.Category,
		"purpose": f.Purpose, "lawful_basis": string(f.LawfulBasis), "outcome": string(f.Outcome)} {
		if v != "" {
			add(col+" = ?", v)
		}
	}
	q += ` ORDER BY idx LIMIT ?`
	args = append(args, limit)
	return list(ctx, s.r, "disclosures by", scanEntry, q, args...)
}
