package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sayso/consent"
)

// The policy is stored as one JSON document per young person. These types
// fix its format on disk, independent of the Go field names; times are unix
// milliseconds UTC, 0 (omitted) for the zero time.
type (
	policyDoc struct {
		Grants     []grantDoc      `json:"grants,omitempty"`
		Blocks     []blockDoc      `json:"blocks,omitempty"`
		Competence []competenceDoc `json:"competence,omitempty"`
		Handovers  []handoverDoc   `json:"handovers,omitempty"`
		Family     []familyRuleDoc `json:"family_rules,omitempty"`
	}
	handoverDoc struct {
		ID             string             `json:"id"`
		FromID         string             `json:"from_id"`
		OrganisationID string             `json:"organisation_id"`
		SuccessorID    string             `json:"successor_id,omitempty"`
		Note           string             `json:"note,omitempty"`
		CreatedAt      int64              `json:"created_at,omitempty"`
		Shares         []handoverShareDoc `json:"shares,omitempty"`
		Answer         string             `json:"answer,omitempty"`
		AnsweredBy     string             `json:"answered_by,omitempty"`
		AnsweredAt     int64              `json:"answered_at,omitempty"`
	}
	handoverShareDoc struct {
		Category string `json:"category"`
		Purpose  string `json:"purpose"`
		Until    int64  `json:"until,omitempty"`
	}
	familyRuleDoc struct {
		FamilyID string   `json:"family_id"`
		See      []string `json:"see"`
		Act      bool     `json:"act,omitempty"`
		SetBy    string   `json:"set_by,omitempty"`
		SetAt    int64    `json:"set_at,omitempty"`
	}
	grantDoc struct {
		ID             string `json:"id"`
		ProfessionalID string `json:"professional_id"`
		OrganisationID string `json:"organisation_id,omitempty"`
		YoungPersonID  string `json:"young_person_id"`
		Category       string `json:"category"`
		Purpose        string `json:"purpose"`
		GrantedBy      string `json:"granted_by,omitempty"`
		RequestID      string `json:"request_id,omitempty"`
		CreatedAt      int64  `json:"created_at,omitempty"`
		Until          int64  `json:"until,omitempty"`
		StoppedAt      int64  `json:"stopped_at,omitempty"`
		StoppedBy      string `json:"stopped_by,omitempty"`
		Statutory      bool   `json:"statutory,omitempty"`
		Condition      string `json:"condition,omitempty"`
		StoryVersion   int    `json:"story_version,omitempty"`
	}
	blockDoc struct {
		ProfessionalID string `json:"professional_id"`
		CreatedBy      string `json:"created_by,omitempty"`
		CreatedAt      int64  `json:"created_at,omitempty"`
	}
	competenceDoc struct {
		RecordedBy string `json:"recorded_by,omitempty"`
		RecordedAt int64  `json:"recorded_at,omitempty"`
		Competent  bool   `json:"competent"`
		Note       string `json:"note,omitempty"`
	}
)

func docMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func docTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

func encodePolicy(p consent.Policy) (string, error) {
	var d policyDoc
	for _, g := range p.Grants {
		d.Grants = append(d.Grants, grantDoc{
			ID: g.ID, ProfessionalID: g.ProfessionalID, OrganisationID: g.OrganisationID, YoungPersonID: g.YoungPersonID,
			Category: g.Category, Purpose: g.Purpose, GrantedBy: g.GrantedBy, RequestID: g.RequestID,
			CreatedAt: docMS(g.CreatedAt), Until: docMS(g.Until), StoppedAt: docMS(g.StoppedAt), StoppedBy: g.StoppedBy,
			Statutory: g.Statutory, Condition: g.Condition, StoryVersion: g.StoryVersion,
		})
	}
	for _, b := range p.Blocks {
		d.Blocks = append(d.Blocks, blockDoc{ProfessionalID: b.ProfessionalID, CreatedBy: b.CreatedBy, CreatedAt: docMS(b.CreatedAt)})
	}
	for _, c := range p.Competence {
		d.Competence = append(d.Competence, competenceDoc{RecordedBy: c.RecordedBy, RecordedAt: docMS(c.RecordedAt), Competent: c.Competent, Note: c.Note})
	}
	for _, h := range p.Handovers {
		hd := handoverDoc{ID: h.ID, FromID: h.FromID, OrganisationID: h.OrganisationID, SuccessorID: h.SuccessorID, Note: h.Note,
			CreatedAt: docMS(h.CreatedAt), Answer: string(h.Answer), AnsweredBy: h.AnsweredBy, AnsweredAt: docMS(h.AnsweredAt)}
		for _, sh := range h.Shares {
			hd.Shares = append(hd.Shares, handoverShareDoc{Category: sh.Category, Purpose: sh.Purpose, Until: docMS(sh.Until)})
		}
		d.Handovers = append(d.Handovers, hd)
	}
	for _, f := range p.FamilyRules {
		d.Family = append(d.Family, familyRuleDoc{FamilyID: f.FamilyID, See: f.See, Act: f.Act, SetBy: f.SetBy, SetAt: docMS(f.SetAt)})
	}
	b, err := json.Marshal(d)
	return string(b), err
}

func decodePolicy(youngPersonID string, version int64, doc string) (consent.Policy, error) {
	p := consent.Policy{YoungPersonID: youngPersonID, Version: version}
	var d policyDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return p, fmt.Errorf("policy of %s: %w", youngPersonID, err)
	}
	for _, g := range d.Grants {
		p.Grants = append(p.Grants, consent.Grant{
			ID: g.ID, ProfessionalID: g.ProfessionalID, OrganisationID: g.OrganisationID, YoungPersonID: g.YoungPersonID,
			Category: g.Category, Purpose: g.Purpose, GrantedBy: g.GrantedBy, RequestID: g.RequestID,
			CreatedAt: docTime(g.CreatedAt), Until: docTime(g.Until), StoppedAt: docTime(g.StoppedAt), StoppedBy: g.StoppedBy,
			Statutory: g.Statutory, Condition: g.Condition, StoryVersion: g.StoryVersion,
		})
	}
	for _, b := range d.Blocks {
		p.Blocks = append(p.Blocks, consent.Block{ProfessionalID: b.ProfessionalID, CreatedBy: b.CreatedBy, CreatedAt: docTime(b.CreatedAt)})
	}
	for _, c := range d.Competence {
		p.Competence = append(p.Competence, consent.Competence{RecordedBy: c.RecordedBy, RecordedAt: docTime(c.RecordedAt), Competent: c.Competent, Note: c.Note})
	}
	for _, h := range d.Handovers {
		ho := consent.Handover{ID: h.ID, FromID: h.FromID, OrganisationID: h.OrganisationID, SuccessorID: h.SuccessorID, Note: h.Note,
			CreatedAt: docTime(h.CreatedAt), Answer: consent.HandoverAnswer(h.Answer), AnsweredBy: h.AnsweredBy, AnsweredAt: docTime(h.AnsweredAt)}
		for _, sh := range h.Shares {
			ho.Shares = append(ho.Shares, consent.HandoverShare{Category: sh.Category, Purpose: sh.Purpose, Until: docTime(sh.Until)})
		}
		p.Handovers = append(p.Handovers, ho)
	}
	for _, f := range d.Family {
		p.FamilyRules = append(p.FamilyRules, consent.FamilyRule{FamilyID: f.FamilyID, See: f.See, Act: f.Act, SetBy: f.SetBy, SetAt: docTime(f.SetAt)})
	}
	return p, nil
}

func (s *Store) GetPolicy(ctx context.Context, youngPersonID string) (consent.Policy, error) {
	var version int64
	var doc string
	err := queryRow(ctx, s.r, `SELECT version, doc FROM policies WHERE young_person_id = ?`, youngPersonID).Scan(&version, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Policy{YoungPersonID: youngPersonID}, nil
	}
	if err != nil {
		return consent.Policy{}, fail("get policy", err)
	}
	p, err := decodePolicy(youngPersonID, version, doc)
	return p, fail("get policy", err)
}

func (s *Store) PolicyVersion(ctx context.Context, youngPersonID string) (int64, error) {
	var version int64
	err := queryRow(ctx, s.r, `SELECT version FROM policies WHERE young_person_id = ?`, youngPersonID).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return version, fail("policy version", err)
}

// PutPolicy is one conditional statement: the first version inserts only if
// no row exists, every later one updates only the row at the version before.
func (s *Store) PutPolicy(ctx context.Context, p consent.Policy) error {
	if p.Version < 1 {
		return fmt.Errorf("put policy version %d: %w", p.Version, consent.ErrConflict)
	}
	doc, err := encodePolicy(p)
	if err != nil {
		return fmt.Errorf("put policy: %w", err)
	}
	var n int64
	if p.Version == 1 {
		n, err = s.exec(ctx, "put policy",
			`INSERT INTO policies (young_person_id, version, doc) VALUES (?, 1, ?)
			 ON CONFLICT (young_person_id) DO NOTHING`, p.YoungPersonID, doc)
	} else {
		n, err = s.exec(ctx, "put policy",
			`UPDATE policies SET version = ?, doc = ? WHERE young_person_id = ? AND version = ?`,
			p.Version, doc, p.YoungPersonID, p.Version-1)
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("put policy of %s at version %d: %w", p.YoungPersonID, p.Version, consent.ErrConflict)
	}
	return err
}

// Access requests

const requestCols = `id, professional_id, organisation_id, young_person_id, categories, purpose, reason,
	duration_days, created_at, expires_at, status, approved, decided_by, decided_at, message, grants_applied`

func scanRequest(row scanner) (consent.AccessRequest, error) {
	var r consent.AccessRequest
	var categories, approved string
	var created, expires, decided sql.NullInt64
	err := row.Scan(&r.ID, &r.ProfessionalID, &r.OrganisationID, &r.YoungPersonID, &categories, &r.Purpose, &r.Reason,
		&r.DurationDays, &created, &expires, &r.Status, &approved, &r.DecidedBy, &decided, &r.Message, &r.GrantsApplied)
	if err != nil {
		return r, err
	}
	r.CreatedAt, r.ExpiresAt, r.DecidedAt = fromMS(created), fromMS(expires), fromMS(decided)
	if err := json.Unmarshal([]byte(categories), &r.Categories); err != nil {
		return r, fmt.Errorf("request %s categories: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(approved), &r.Approved); err != nil {
		return r, fmt.Errorf("request %s approved: %w", r.ID, err)
	}
	return r, nil
}

// requestArgs are the values for requestCols, in order.
func requestArgs(r consent.AccessRequest) []any {
	categories, _ := json.Marshal(r.Categories) // a []string always encodes
	approved, _ := json.Marshal(r.Approved)
	return []any{r.ID, r.ProfessionalID, r.OrganisationID, r.YoungPersonID, string(categories), r.Purpose, r.Reason,
		r.DurationDays, ms(r.CreatedAt), ms(r.ExpiresAt), r.Status, string(approved), r.DecidedBy, ms(r.DecidedAt), r.Message, r.GrantsApplied}
}

func (s *Store) CreateRequest(ctx context.Context, r consent.AccessRequest) error {
	_, err := s.exec(ctx, "create request",
		`INSERT INTO requests (`+requestCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		requestArgs(r)...)
	return err
}

func (s *Store) GetRequest(ctx context.Context, id string) (consent.AccessRequest, error) {
	return get(ctx, s.r, "get request", scanRequest, `SELECT `+requestCols+` FROM requests WHERE id = ?`, id)
}

// UpdateRequest replaces the request only while its status is still from;
// when nothing changed, a second look tells a missing request from a lost race.
func (s *Store) UpdateRequest(ctx context.Context, r consent.AccessRequest, from consent.RequestStatus) error {
	args := append(requestArgs(r)[1:], r.ID, from)
	n, err := s.exec(ctx, "update request",
		`UPDATE requests SET professional_id = ?, organisation_id = ?, young_person_id = ?, categories = ?, purpose = ?,
		 reason = ?, duration_days = ?, created_at = ?, expires_at = ?, status = ?, approved = ?, decided_by = ?,
		 decided_at = ?, message = ?, grants_applied = ?
		 WHERE id = ? AND status = ?`, args...)
	if err != nil || n > 0 {
		return err
	}
	var one int
	if err := s.w.QueryRowContext(ctx, `SELECT 1 FROM requests WHERE id = ?`, r.ID).Scan(&one); err != nil {
		return fail("update request", err)
	}
	return fmt.Errorf("update request %s: status is no longer %s: %w", r.ID, from, consent.ErrConflict)
}

func (s *Store) RequestsFor(ctx context.Context, youngPersonID string) ([]consent.AccessRequest, error) {
	return list(ctx, s.r, "requests for", scanRequest,
		`SELECT `+requestCols+` FROM requests WHERE young_person_id = ? ORDER BY created_at DESC, id DESC`, youngPersonID)
}

func (s *Store) RequestsBy(ctx context.Context, professionalID string) ([]consent.AccessRequest, error) {
	return list(ctx, s.r, "requests by", scanRequest,
		`SELECT `+requestCols+` FROM requests WHERE professional_id = ? ORDER BY created_at DESC, id DESC`, professionalID)
}
