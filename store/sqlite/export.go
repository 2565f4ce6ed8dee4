package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"sayso/consent"
)

// What `sayso migrate-store` needs beyond consent.Store: a way to walk every
// record, and to store a policy at the version it has.

// exported are the tables Export walks, in the order it walks them, each by
// its primary key so that a walk is repeatable.
var exported = []struct {
	table string
	query string
	scan  func(scanner) (any, error)
}{
	{"people", `SELECT ` + personCols + ` FROM people ORDER BY id`, anyOf(scanPerson)},
	{"organisations", `SELECT id, name, kind, created_at FROM organisations ORDER BY id`, anyOf(scanOrganisation)},
	{"memberships", `SELECT id, person_id, organisation_id, role, started_at, ended_at FROM memberships ORDER BY id`, anyOf(scanMembership)},
	{"family_links", `SELECT ` + familyCols + ` FROM family_links ORDER BY family_id, young_person_id`, anyOf(scanFamilyLink)},
	{"holdings", `SELECT id, organisation_id, young_person_id, category, since, system, summary FROM holdings ORDER BY id`, anyOf(scanHolding)},
	{"policies", `SELECT young_person_id, version, doc FROM policies ORDER BY young_person_id`, func(sc scanner) (any, error) {
		var yp, doc string
		var version int64
		if err := sc.Scan(&yp, &version, &doc); err != nil {
			return nil, err
		}
		return decodePolicy(yp, version, doc)
	}},
	{"requests", `SELECT ` + requestCols + ` FROM requests ORDER BY id`, anyOf(scanRequest)},
	{"concerns", `SELECT ` + concernCols + ` FROM concerns ORDER BY id`, anyOf(scanConcern)},
	{"wrapped_keys", `SELECT young_person_id, wrapped, kek_id, created_at FROM wrapped_keys ORDER BY young_person_id`, anyOf(scanKey)},
	{"sessions", `SELECT id_hash, person_id, created_at, last_seen_at, expires_at FROM sessions ORDER BY id_hash`, anyOf(scanSession)},
}

// NotExported names the tables Export leaves out, and why; a test checks
// that every table of the schema is either exported or listed here.
var NotExported = map[string]string{
	"once":             "one-time values (sign-in nonces) only matter until they expire",
	"log_entries":      "the disclosure log is read through consent.LogStore",
	"log_hashes":       "the disclosure log is read through consent.LogStore",
	"log_checkpoints":  "the disclosure log is read through consent.LogStore",
	"goose_db_version": "the schema version belongs to this file",
}

func anyOf[T any](scan func(scanner) (T, error)) func(scanner) (any, error) {
	return func(sc scanner) (any, error) { return scan(sc) }
}

// Export calls visit with every record the store holds outside the
// disclosure log, as stored: content that keys.SealedStore sealed stays
// sealed, and wrapped keys stay wrapped. The values are, in this order,
// consent.Person, consent.Organisation, consent.Membership,
// consent.FamilyLink, consent.Holding, consent.Policy (with its version),
// consent.AccessRequest, consent.Concern, consent.WrappedKey and
// consent.Session; one-time values are left out (see NotExported). All of
// it is read in one read transaction, so it is one consistent snapshot
// however long visit takes. An error from visit stops the walk and is
// returned as it is.
func (s *Store) Export(ctx context.Context, visit func(record any) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fail("export", err)
	}
	defer tx.Rollback()
	for _, t := range exported {
		if err := exportTable(ctx, tx, t.table, t.query, t.scan, visit); err != nil {
			return err
		}
	}
	return nil
}

func exportTable(ctx context.Context, tx *sql.Tx, table, query string, scan func(scanner) (any, error), visit func(any) error) error {
	op := "export " + table
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return fail(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fail(op, err)
		}
		if err := visit(v); err != nil {
			return err
		}
	}
	return fail(op, rows.Err())
}

// ExportCount is how many records Export would visit now, for a progress bar.
func (s *Store) ExportCount(ctx context.Context) (int64, error) {
	var total int64
	for _, t := range exported {
		var n int64
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+t.table).Scan(&n); err != nil {
			return 0, fail("count "+t.table, err)
		}
		total += n
	}
	return total, nil
}

// ImportPolicy stores p exactly as it is, at its version, for copying a
// store: PutPolicy cannot start a policy anywhere but at version 1.
// ErrConflict if the young person has a policy already.
func (s *Store) ImportPolicy(ctx context.Context, p consent.Policy) error {
	if p.Version < 1 {
		return fmt.Errorf("import policy of %s at version %d: %w", p.YoungPersonID, p.Version, consent.ErrInvalid)
	}
	doc, err := encodePolicy(p)
	if err != nil {
		return fmt.Errorf("import policy: %w", err)
	}
	_, err = s.exec(ctx, "import policy", `INSERT INTO policies (young_person_id, version, doc) VALUES (?, ?, ?)`, p.YoungPersonID, p.Version, doc)
	return err
}
