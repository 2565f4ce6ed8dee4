package mongo

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"sayso/consent"
)

// The documents below fix the stored format, independent of the Go field
// names in consent. Times are BSON datetimes (UTC, whole milliseconds); a
// zero time is stored as no field. Each collection's _id is the record's
// own id, so creating a record twice meets the _id index: ErrConflict.

type personDoc struct {
	ID        string         `bson:"_id"`
	Name      string         `bson:"name"`
	Subject   string         `bson:"subject,omitempty"` // absent when empty: see the people_subject index
	BirthDate *bson.DateTime `bson:"birth_date,omitempty"`
	Operator  bool           `bson:"operator"`
	CreatedAt *bson.DateTime `bson:"created_at,omitempty"`
}

func toPersonDoc(p consent.Person) personDoc {
	return personDoc{ID: p.ID, Name: p.Name, Subject: p.Subject, BirthDate: dt(p.BirthDate), Operator: p.Operator, CreatedAt: dt(p.CreatedAt)}
}

func (d personDoc) person() consent.Person {
	return consent.Person{ID: d.ID, Name: d.Name, Subject: d.Subject, BirthDate: tm(d.BirthDate), Operator: d.Operator, CreatedAt: tm(d.CreatedAt)}
}

type organisationDoc struct {
	ID        string         `bson:"_id"`
	Name      string         `bson:"name"`
	Kind      string         `bson:"kind"`
	CreatedAt *bson.DateTime `bson:"created_at,omitempty"`
}

func toOrganisationDoc(o consent.Organisation) organisationDoc {
	return organisationDoc{ID: o.ID, Name: o.Name, Kind: string(o.Kind), CreatedAt: dt(o.CreatedAt)}
}

func (d organisationDoc) organisation() consent.Organisation {
	return consent.Organisation{ID: d.ID, Name: d.Name, Kind: consent.OrgKind(d.Kind), CreatedAt: tm(d.CreatedAt)}
}

type membershipDoc struct {
	ID             string         `bson:"_id"`
	PersonID       string         `bson:"person_id"`
	OrganisationID string         `bson:"organisation_id"`
	Role           string         `bson:"role"`
	StartedAt      *bson.DateTime `bson:"started_at,omitempty"`
	EndedAt        *bson.DateTime `bson:"ended_at,omitempty"`
}

func toMembershipDoc(m consent.Membership) membershipDoc {
	return membershipDoc{ID: m.ID, PersonID: m.PersonID, OrganisationID: m.OrganisationID, Role: string(m.Role),
		StartedAt: dt(m.StartedAt), EndedAt: dt(m.EndedAt)}
}

func (d membershipDoc) membership() consent.Membership {
	return consent.Membership{ID: d.ID, PersonID: d.PersonID, OrganisationID: d.OrganisationID, Role: consent.Role(d.Role),
		StartedAt: tm(d.StartedAt), EndedAt: tm(d.EndedAt)}
}

// familyKey is a family link's _id: the pair is the identity, so linking the
// same pair twice meets the _id index. It holds the young person's id, the
// shard key, so equal _ids always land on the same shard.
type familyKey struct {
	FamilyID      string `bson:"f"`
	YoungPersonID string `bson:"y"`
}

type familyDoc struct {
	ID            familyKey      `bson:"_id"`
	FamilyID      string         `bson:"family_id"`
	YoungPersonID string         `bson:"young_person_id"`
	Relationship  string         `bson:"relationship"`
	CanAct        bool           `bson:"can_act"`
	CreatedAt     *bson.DateTime `bson:"created_at,omitempty"`
}

func toFamilyDoc(l consent.FamilyLink) familyDoc {
	return familyDoc{ID: familyKey{FamilyID: l.FamilyID, YoungPersonID: l.YoungPersonID}, FamilyID: l.FamilyID,
		YoungPersonID: l.YoungPersonID, Relationship: l.Relationship, CanAct: l.CanAct, CreatedAt: dt(l.CreatedAt)}
}

func (d familyDoc) link() consent.FamilyLink {
	return consent.FamilyLink{FamilyID: d.FamilyID, YoungPersonID: d.YoungPersonID, Relationship: d.Relationship,
		CanAct: d.CanAct, CreatedAt: tm(d.CreatedAt)}
}

type holdingDoc struct {
	ID             string         `bson:"_id"`
	OrganisationID string         `bson:"organisation_id"`
	YoungPersonID  string         `bson:"young_person_id"`
	Category       string         `bson:"category"`
	Since          *bson.DateTime `bson:"since,omitempty"`
	System         string         `bson:"system"`
	Summary        string         `bson:"summary"`
}

func toHoldingDoc(h consent.Holding) holdingDoc {
	return holdingDoc{ID: h.ID, OrganisationID: h.OrganisationID, YoungPersonID: h.YoungPersonID, Category: h.Category,
		Since: dt(h.Since), System: h.System, Summary: h.Summary}
}

func (d holdingDoc) holding() consent.Holding {
	return consent.Holding{ID: d.ID, OrganisationID: d.OrganisationID, YoungPersonID: d.YoungPersonID, Category: d.Category,
		Since: tm(d.Since), System: d.System, Summary: d.Summary}
}

// policyDoc is one young person's whole policy: grants, blocks and
// competence change together with the version in one document write.
type policyDoc struct {
	ID         string          `bson:"_id"` // the young person's id
	Version    int64           `bson:"version"`
	Grants     []grantDoc      `bson:"grants,omitempty"`
	Blocks     []blockDoc      `bson:"blocks,omitempty"`
	Competence []competenceDoc `bson:"competence,omitempty"`
	Handovers  []handoverDoc   `bson:"handovers,omitempty"`
	Family     []familyRuleDoc `bson:"family_rules,omitempty"`
}

type handoverDoc struct {
	ID             string             `bson:"id"`
	FromID         string             `bson:"from_id"`
	OrganisationID string             `bson:"organisation_id"`
	SuccessorID    string             `bson:"successor_id,omitempty"`
	Note           string             `bson:"note,omitempty"`
	CreatedAt      *bson.DateTime     `bson:"created_at,omitempty"`
	Shares         []handoverShareDoc `bson:"shares,omitempty"`
	Answer         string             `bson:"answer,omitempty"`
	AnsweredBy     string             `bson:"answered_by,omitempty"`
	AnsweredAt     *bson.DateTime     `bson:"answered_at,omitempty"`
}

type handoverShareDoc struct {
	Category string         `bson:"category"`
	Purpose  string         `bson:"purpose"`
	Until    *bson.DateTime `bson:"until,omitempty"`
}

type familyRuleDoc struct {
	FamilyID string         `bson:"family_id"`
	See      []string       `bson:"see"`
	Act      bool           `bson:"act,omitempty"`
	SetBy    string         `bson:"set_by,omitempty"`
	SetAt    *bson.DateTime `bson:"set_at,omitempty"`
}

type grantDoc struct {
	ID             string         `bson:"id"`
	ProfessionalID string         `bson:"professional_id"`
	OrganisationID string         `bson:"organisation_id,omitempty"`
	YoungPersonID  string         `bson:"young_person_id"`
	Category       string         `bson:"category"`
	Purpose        string         `bson:"purpose"`
	GrantedBy      string         `bson:"granted_by,omitempty"`
	RequestID      string         `bson:"request_id,omitempty"`
	CreatedAt      *bson.DateTime `bson:"created_at,omitempty"`
	Until          *bson.DateTime `bson:"until,omitempty"`
	StoppedAt      *bson.DateTime `bson:"stopped_at,omitempty"`
	StoppedBy      string         `bson:"stopped_by,omitempty"`
	Statutory      bool           `bson:"statutory,omitempty"`
	Condition      string         `bson:"condition,omitempty"`
	StoryVersion   int            `bson:"story_version,omitempty"`
}

type blockDoc struct {
	ProfessionalID string         `bson:"professional_id"`
	CreatedBy      string         `bson:"created_by,omitempty"`
	CreatedAt      *bson.DateTime `bson:"created_at,omitempty"`
}

type competenceDoc struct {
	RecordedBy string         `bson:"recorded_by,omitempty"`
	RecordedAt *bson.DateTime `bson:"recorded_at,omitempty"`
	Competent  bool           `bson:"competent"`
	Note       string         `bson:"note,omitempty"`
}

func toPolicyDoc(p consent.Policy) policyDoc {
	d := policyDoc{ID: p.YoungPersonID, Version: p.Version}
	for _, g := range p.Grants {
		d.Grants = append(d.Grants, grantDoc{
			ID: g.ID, ProfessionalID: g.ProfessionalID, OrganisationID: g.OrganisationID, YoungPersonID: g.YoungPersonID, Category: g.Category, Purpose: g.Purpose,
			GrantedBy: g.GrantedBy, RequestID: g.RequestID, CreatedAt: dt(g.CreatedAt), Until: dt(g.Until),
			StoppedAt: dt(g.StoppedAt), StoppedBy: g.StoppedBy, Statutory: g.Statutory, Condition: g.Condition, StoryVersion: g.StoryVersion,
		})
	}
	for _, b := range p.Blocks {
		d.Blocks = append(d.Blocks, blockDoc{ProfessionalID: b.ProfessionalID, CreatedBy: b.CreatedBy, CreatedAt: dt(b.CreatedAt)})
	}
	for _, c := range p.Competence {
		d.Competence = append(d.Competence, competenceDoc{RecordedBy: c.RecordedBy, RecordedAt: dt(c.RecordedAt), Competent: c.Competent, Note: c.Note})
	}
	for _, h := range p.Handovers {
		hd := handoverDoc{ID: h.ID, FromID: h.FromID, OrganisationID: h.OrganisationID, SuccessorID: h.SuccessorID, Note: h.Note,
			CreatedAt: dt(h.CreatedAt), Answer: string(h.Answer), AnsweredBy: h.AnsweredBy, AnsweredAt: dt(h.AnsweredAt)}
		for _, sh := range h.Shares {
			hd.Shares = append(hd.Shares, handoverShareDoc{Category: sh.Category, Purpose: sh.Purpose, Until: dt(sh.Until)})
		}
		d.Handovers = append(d.Handovers, hd)
	}
	for _, f := range p.FamilyRules {
		d.Family = append(d.Family, familyRuleDoc{FamilyID: f.FamilyID, See: f.See, Act: f.Act, SetBy: f.SetBy, SetAt: dt(f.SetAt)})
	}
	return d
}

func (d policyDoc) policy() consent.Policy {
	p := consent.Policy{YoungPersonID: d.ID, Version: d.Version}
	for _, g := range d.Grants {
		p.Grants = append(p.Grants, consent.Grant{
			ID: g.ID, ProfessionalID: g.ProfessionalID, OrganisationID: g.OrganisationID, YoungPersonID: g.YoungPersonID, Category: g.Category, Purpose: g.Purpose,
			GrantedBy: g.GrantedBy, RequestID: g.RequestID, CreatedAt: tm(g.CreatedAt), Until: tm(g.Until),
			StoppedAt: tm(g.StoppedAt), StoppedBy: g.StoppedBy, Statutory: g.Statutory, Condition: g.Condition, StoryVersion: g.StoryVersion,
		})
	}
	for _, b := range d.Blocks {
		p.Blocks = append(p.Blocks, consent.Block{ProfessionalID: b.ProfessionalID, CreatedBy: b.CreatedBy, CreatedAt: tm(b.CreatedAt)})
	}
	for _, c := range d.Competence {
		p.Competence = append(p.Competence, consent.Competence{RecordedBy: c.RecordedBy, RecordedAt: tm(c.RecordedAt), Competent: c.Competent, Note: c.Note})
	}
	for _, h := range d.Handovers {
		ho := consent.Handover{ID: h.ID, FromID: h.FromID, OrganisationID: h.OrganisationID, SuccessorID: h.SuccessorID, Note: h.Note,
			CreatedAt: tm(h.CreatedAt), Answer: consent.HandoverAnswer(h.Answer), AnsweredBy: h.AnsweredBy, AnsweredAt: tm(h.AnsweredAt)}
		for _, sh := range h.Shares {
			ho.Shares = append(ho.Shares, consent.HandoverShare{Category: sh.Category, Purpose: sh.Purpose, Until: tm(sh.Until)})
		}
		p.Handovers = append(p.Handovers, ho)
	}
	for _, f := range d.Family {
		p.FamilyRules = append(p.FamilyRules, consent.FamilyRule{FamilyID: f.FamilyID, See: f.See, Act: f.Act, SetBy: f.SetBy, SetAt: tm(f.SetAt)})
	}
	return p
}

type requestDoc struct {
	ID             string         `bson:"_id"`
	ProfessionalID string         `bson:"professional_id"`
	OrganisationID string         `bson:"organisation_id"`
	YoungPersonID  string         `bson:"young_person_id"`
	Categories     []string       `bson:"categories"`
	Purpose        string         `bson:"purpose"`
	Reason         string         `bson:"reason"`
	DurationDays   int64          `bson:"duration_days"`
	CreatedAt      *bson.DateTime `bson:"created_at,omitempty"`
	ExpiresAt      *bson.DateTime `bson:"expires_at,omitempty"`
	Status         string         `bson:"status"`
	Approved       []string       `bson:"approved"`
	DecidedBy      string         `bson:"decided_by"`
	DecidedAt      *bson.DateTime `bson:"decided_at,omitempty"`
	Message        string         `bson:"message"`
	GrantsApplied  bool           `bson:"grants_applied"`
}

func toRequestDoc(r consent.AccessRequest) requestDoc {
	return requestDoc{
		ID: r.ID, ProfessionalID: r.ProfessionalID, OrganisationID: r.OrganisationID, YoungPersonID: r.YoungPersonID,
		Categories: r.Categories, Purpose: r.Purpose, Reason: r.Reason, DurationDays: int64(r.DurationDays),
		CreatedAt: dt(r.CreatedAt), ExpiresAt: dt(r.ExpiresAt), Status: string(r.Status), Approved: r.Approved,
		DecidedBy: r.DecidedBy, DecidedAt: dt(r.DecidedAt), Message: r.Message, GrantsApplied: r.GrantsApplied,
	}
}

func (d requestDoc) request() consent.AccessRequest {
	return consent.AccessRequest{
		ID: d.ID, ProfessionalID: d.ProfessionalID, OrganisationID: d.OrganisationID, YoungPersonID: d.YoungPersonID,
		Categories: d.Categories, Purpose: d.Purpose, Reason: d.Reason, DurationDays: int(d.DurationDays),
		CreatedAt: tm(d.CreatedAt), ExpiresAt: tm(d.ExpiresAt), Status: consent.RequestStatus(d.Status), Approved: d.Approved,
		DecidedBy: d.DecidedBy, DecidedAt: tm(d.DecidedAt), Message: d.Message, GrantsApplied: d.GrantsApplied,
	}
}

type sessionDoc struct {
	IDHash     string         `bson:"_id"`
	PersonID   string         `bson:"person_id"`
	CreatedAt  *bson.DateTime `bson:"created_at,omitempty"`
	LastSeenAt *bson.DateTime `bson:"last_seen_at,omitempty"`
	ExpiresAt  *bson.DateTime `bson:"expires_at,omitempty"`
}

func toSessionDoc(x consent.Session) sessionDoc {
	return sessionDoc{IDHash: x.IDHash, PersonID: x.PersonID, CreatedAt: dt(x.CreatedAt), LastSeenAt: dt(x.LastSeenAt), ExpiresAt: dt(x.ExpiresAt)}
}

func (d sessionDoc) session() consent.Session {
	return consent.Session{IDHash: d.IDHash, PersonID: d.PersonID, CreatedAt: tm(d.CreatedAt), LastSeenAt: tm(d.LastSeenAt), ExpiresAt: tm(d.ExpiresAt)}
}

// onceDoc is a used one-time value. expires is always a datetime (the TTL
// index needs one): the zero time is stored as its own instant, long past.
type onceDoc struct {
	Key     string        `bson:"_id"`
	Expires bson.DateTime `bson:"expires"`
}

// entryDoc is one disclosure log entry, _id its index. It carries the tree
// hashes that appending it added (at storage indexes StoredHashIndex(0, _id)
// onwards), so an entry and its hashes are stored in one atomic write.
type entryDoc struct {
	Index          int64          `bson:"_id"`
	Data           []byte         `bson:"data"`
	At             *bson.DateTime `bson:"at,omitempty"`
	YoungPersonID  string         `bson:"young_person_id"`
	ActorID        string         `bson:"actor_id"`
	OrganisationID string         `bson:"organisation_id"`
	Category       string         `bson:"category"`
	Purpose        string         `bson:"purpose"`
	LawfulBasis    string         `bson:"lawful_basis"`
	Outcome        string         `bson:"outcome"`
	Hashes         [][]byte       `bson:"hashes"`
}

func toEntryDoc(e consent.LogEntry, hashes [][]byte) entryDoc {
	return entryDoc{
		Index: e.Index, Data: e.Data, At: dt(e.At), YoungPersonID: e.YoungPersonID, ActorID: e.ActorID,
		OrganisationID: e.OrganisationID, Category: e.Category, Purpose: e.Purpose, LawfulBasis: string(e.LawfulBasis),
		Outcome: string(e.Outcome), Hashes: hashes,
	}
}

func (d entryDoc) entry() consent.LogEntry {
	return consent.LogEntry{
		Index: d.Index, Data: d.Data, At: tm(d.At), YoungPersonID: d.YoungPersonID, ActorID: d.ActorID,
		OrganisationID: d.OrganisationID, Category: d.Category, Purpose: d.Purpose,
		LawfulBasis: consent.LawfulBasis(d.LawfulBasis), Outcome: consent.Outcome(d.Outcome),
	}
}

type checkpointDoc struct {
	Size   int64  `bson:"_id"`
	Signed []byte `bson:"signed"`
}

type keyDoc struct {
	YoungPersonID string         `bson:"_id"`
	Wrapped       []byte         `bson:"wrapped"`
	KEKID         int64          `bson:"kek_id"`
	CreatedAt     *bson.DateTime `bson:"created_at,omitempty"`
}

func toKeyDoc(k consent.WrappedKey) keyDoc {
	return keyDoc{YoungPersonID: k.YoungPersonID, Wrapped: k.Wrapped, KEKID: int64(k.KEKID), CreatedAt: dt(k.CreatedAt)}
}

func (d keyDoc) key() consent.WrappedKey {
	return consent.WrappedKey{YoungPersonID: d.YoungPersonID, Wrapped: d.Wrapped, KEKID: uint32(d.KEKID), CreatedAt: tm(d.CreatedAt)}
}
