package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"sayso/consent"
)

// People

const personCols = `id, name, subject, birth_date, operator, created_at`

func scanPerson(row scanner) (consent.Person, error) {
	var p consent.Person
	var birth, created sql.NullInt64
	err := row.Scan(&p.ID, &p.Name, &p.Subject, &birth, &p.Operator, &created)
	p.BirthDate, p.CreatedAt = fromMS(birth), fromMS(created)
	return p, err
}

func (s *Store) CreatePerson(ctx context.Context, p consent.Person) error {
	_, err := s.exec(ctx, "create person",
		`INSERT INTO people (`+personCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.Subject, ms(p.BirthDate), p.Operator, ms(p.CreatedAt))
	return err
}

func (s *Store) GetPerson(ctx context.Context, id string) (consent.Person, error) {
	return get(ctx, s.r, "get person", scanPerson, `SELECT `+personCols+` FROM people WHERE id = ?`, id)
}

func (s *Store) PersonBySubject(ctx context.Context, subject string) (consent.Person, error) {
	// Many people may have no subject; none of them is "signed in as ''".
	if subject == "" {
		return consent.Person{}, fmt.Errorf("person by subject: %w", consent.ErrNotFound)
	}
	return get(ctx, s.r, "person by subject", scanPerson, `SELECT `+personCols+` FROM people WHERE subject = ?`, subject)
}

// Organisations

func scanOrganisation(row scanner) (consent.Organisation, error) {
	var o consent.Organisation
	var created sql.NullInt64
	err := row.Scan(&o.ID, &o.Name, &o.Kind, &created)
	o.CreatedAt = fromMS(created)
	return o, err
}

func (s *Store) CreateOrganisation(ctx context.Context, o consent.Organisation) error {
	_, err := s.exec(ctx, "create organisation",
		`INSERT INTO organisations (id, name, kind, created_at) VALUES (?, ?, ?, ?)`,
		o.ID, o.Name, o.Kind, ms(o.CreatedAt))
	return err
}

func (s *Store) GetOrganisation(ctx context.Context, id string) (consent.Organisation, error) {
	return get(ctx, s.r, "get organisation", scanOrganisation,
		`SELECT id, name, kind, created_at FROM organisations WHERE id = ?`, id)
}

// Memberships

func scanMembership(row scanner) (consent.Membership, error) {
	var m consent.Membership
	var started, ended sql.NullInt64
	err := row.Scan(&m.ID, &m.PersonID, &m.OrganisationID, &m.Role, &started, &ended)
	m.StartedAt, m.EndedAt = fromMS(started), fromMS(ended)
	return m, err
}

func (s *Store) CreateMembership(ctx context.Context, m consent.Membership) error {
	_, err := s.exec(ctx, "create membership",
		`INSERT INTO memberships (id, person_id, organisation_id, role, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, m.PersonID, m.OrganisationID, m.Role, ms(m.StartedAt), ms(m.EndedAt))
	return err
}

func (s *Store) EndMembership(ctx context.Context, id string, at time.Time) error {
	n, err := s.exec(ctx, "end membership", `UPDATE memberships SET ended_at = ? WHERE id = ?`, ms(at), id)
	if err == nil && n == 0 {
		err = fmt.Errorf("end membership %s: %w", id, consent.ErrNotFound)
	}
	return err
}

func (s *Store) MembershipsOf(ctx context.Context, personID string) ([]consent.Membership, error) {
	return list(ctx, s.r, "memberships", scanMembership,
		`SELECT id, person_id, organisation_id, role, started_at, ended_at FROM memberships
		 WHERE person_id = ? ORDER BY started_at, id`, personID)
}

// Family links

const familyCols = `family_id, young_person_id, relationship, can_act, created_at`

func scanFamilyLink(row scanner) (consent.FamilyLink, error) {
	var l consent.FamilyLink
	var created sql.NullInt64
	err := row.Scan(&l.FamilyID, &l.YoungPersonID, &l.Relationship, &l.CanAct, &created)
	l.CreatedAt = fromMS(created)
	return l, err
}

func (s *Store) CreateFamilyLink(ctx context.Context, l consent.FamilyLink) error {
	_, err := s.exec(ctx, "create family link",
		`INSERT INTO family_links (`+familyCols+`) VALUES (?, ?, ?, ?, ?)`,
		l.FamilyID, l.YoungPersonID, l.Relationship, l.CanAct, ms(l.CreatedAt))
	return err
}

func (s *Store) FamilyOf(ctx context.Context, youngPersonID string) ([]consent.FamilyLink, error) {
	return list(ctx, s.r, "family of", scanFamilyLink,
		`SELECT `+familyCols+` FROM family_links WHERE young_person_id = ? ORDER BY created_at, family_id`, youngPersonID)
}

func (s *Store) ChildrenOf(ctx context.Context, familyID string) ([]consent.FamilyLink, error) {
	return list(ctx, s.r, "children of", scanFamilyLink,
		`SELECT `+familyCols+` FROM family_links WHERE family_id = ? ORDER BY created_at, young_person_id`, familyID)
}

// Holdings

func scanHolding(row scanner) (consent.Holding, error) {
	var h consent.Holding
	var since sql.NullInt64
	err := row.Scan(&h.ID, &h.OrganisationID, &h.YoungPersonID, &h.Category, &since, &h.System, &h.Summary)
	h.Since = fromMS(since)
	return h, err
}

func (s *Store) CreateHolding(ctx context.Context, h consent.Holding) error {
	_, err := s.exec(ctx, "create holding",
		`INSERT INTO holdings (id, organisation_id, young_person_id, category, since, system, summary) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		h.ID, h.OrganisationID, h.YoungPersonID, h.Category, ms(h.Since), h.System, h.Summary)
	return err
}

func (s *Store) HoldingsOf(ctx context.Context, youngPersonID string) ([]consent.Holding, error) {
	return list(ctx, s.r, "holdings", scanHolding,
		`SELECT id, organisation_id, young_person_id, category, since, system, summary FROM holdings
		 WHERE young_person_id = ? ORDER BY organisation_id, category, id`, youngPersonID)
}

// Sessions

func scanSession(row scanner) (consent.Session, error) {
	var x consent.Session
	var created, seen, expires sql.NullInt64
	err := row.Scan(&x.IDHash, &x.PersonID, &created, &seen, &expires)
	x.CreatedAt, x.LastSeenAt, x.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	return x, err
}

func (s *Store) CreateSession(ctx context.Context, x consent.Session) error {
	_, err := s.exec(ctx, "create session",
		`INSERT INTO sessions (id_hash, person_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		x.IDHash, x.PersonID, ms(x.CreatedAt), ms(x.LastSeenAt), ms(x.ExpiresAt))
	return err
}

func (s *Store) GetSession(ctx context.Context, idHash string) (consent.Session, error) {
	return get(ctx, s.r, "get session", scanSession,
		`SELECT id_hash, person_id, created_at, last_seen_at, expires_at FROM sessions WHERE id_hash = ?`, idHash)
}

func (s *Store) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	n, err := s.exec(ctx, "touch session", `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, ms(at), idHash)
	if err == nil && n == 0 {
		err = fmt.Errorf("touch session: %w", consent.ErrNotFound)
	}
	return err
}

func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.exec(ctx, "delete session", `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

// UseOnce inserts the key, or takes over a row whose expiry has passed, in
// one statement; no row changed means the key is still in use.
func (s *Store) UseOnce(ctx context.Context, key string, expires time.Time) error {
	n, err := s.exec(ctx, "use once",
		`INSERT INTO once (key, expires) VALUES (?, ?)
		 ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE once.expires <= ?`,
		key, expires.UnixMilli(), time.Now().UnixMilli())
	if err == nil && n == 0 {
		err = fmt.Errorf("use once: %w", consent.ErrConflict)
	}
	return err
}
