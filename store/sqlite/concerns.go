package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"sayso/consent"
)

// Concerns

const concernCols = `id, log_index, young_person_id, raised_by, organisation_id, message, created_at, answer, answered_by, answered_at`

func scanConcern(row scanner) (consent.Concern, error) {
	var c consent.Concern
	var created, answered sql.NullInt64
	err := row.Scan(&c.ID, &c.LogIndex, &c.YoungPersonID, &c.RaisedBy, &c.OrganisationID, &c.Message, &created, &c.Answer, &c.AnsweredBy, &answered)
	c.CreatedAt, c.AnsweredAt = fromMS(created), fromMS(answered)
	return c, err
}

func (s *Store) CreateConcern(ctx context.Context, c consent.Concern) error {
	_, err := s.exec(ctx, "create concern",
		`INSERT INTO concerns (`+concernCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.LogIndex, c.YoungPersonID, c.RaisedBy, c.OrganisationID, c.Message, ms(c.CreatedAt), c.Answer, c.AnsweredBy, ms(c.AnsweredAt))
	return err
}

func (s *Store) ConcernsFor(ctx context.Context, organisationID string) ([]consent.Concern, error) {
	return list(ctx, s.r, "concerns for", scanConcern,
		`SELECT `+concernCols+` FROM concerns WHERE organisation_id = ? ORDER BY created_at DESC, id DESC`, organisationID)
}

func (s *Store) ConcernsAbout(ctx context.Context, youngPersonID string) ([]consent.Concern, error) {
	return list(ctx, s.r, "concerns about", scanConcern,
		`SELECT `+concernCols+` FROM concerns WHERE young_person_id = ? ORDER BY created_at DESC, id DESC`, youngPersonID)
}

// AnswerConcern sets the answer only where none is recorded, in one
// statement; no row changed means unknown or answered already.
func (s *Store) AnswerConcern(ctx context.Context, id, answer, answeredBy string, at time.Time) error {
	n, err := s.exec(ctx, "answer concern",
		`UPDATE concerns SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ? AND answered_by = ''`,
		answer, answeredBy, ms(at), id)
	if err != nil || n == 1 {
		return err
	}
	if _, err := get(ctx, s.r, "answer concern", scanConcern, `SELECT `+concernCols+` FROM concerns WHERE id = ?`, id); err != nil {
		return err
	}
	return fmt.Errorf("answer concern %s: %w", id, consent.ErrConflict)
}

// Look-ups by organisation

func (s *Store) YoungPeopleHeldBy(ctx context.Context, organisationID string) ([]string, error) {
	return list(ctx, s.r, "young people held by", func(row scanner) (string, error) {
		var id string
		return id, row.Scan(&id)
	}, `SELECT DISTINCT young_person_id FROM holdings WHERE organisation_id = ? ORDER BY young_person_id`, organisationID)
}

func (s *Store) MembershipsIn(ctx context.Context, organisationID string) ([]consent.Membership, error) {
	return list(ctx, s.r, "memberships in", scanMembership,
		`SELECT id, person_id, organisation_id, role, started_at, ended_at FROM memberships
		 WHERE organisation_id = ? ORDER BY started_at, id`, organisationID)
}
