package consent

import "time"

// Person is anyone who signs in: a young person, a family member, a
// professional, a DPO or an operator. What they may do follows from the
// records that point at them (memberships, family links), not from a field.
type Person struct {
	ID      string
	Name    string
	Subject string // the identity provider's stable subject for this person
	// BirthDate is set for young people and zero for everyone else.
	BirthDate time.Time
	Operator  bool
	CreatedAt time.Time
}

// IsYoungPerson reports whether the person is someone Sayso holds a story for.
func (p Person) IsYoungPerson() bool { return !p.BirthDate.IsZero() }

// AgeOn returns the person's age in whole years on day t.
func (p Person) AgeOn(t time.Time) int {
	if p.BirthDate.IsZero() {
		return 0
	}
	b, t := p.BirthDate.UTC(), t.UTC()
	age := t.Year() - b.Year()
	if t.Month() < b.Month() || (t.Month() == b.Month() && t.Day() < b.Day()) {
		age--
	}
	return age
}

// OrgKind says what sort of organisation holds information.
type OrgKind string

const (
	OrgCouncil OrgKind = "council"
	OrgSchool  OrgKind = "school"
	OrgCharity OrgKind = "charity"
	OrgHealth  OrgKind = "health"
)

// Organisation holds information about young people and employs professionals.
type Organisation struct {
	ID        string
	Name      string
	Kind      OrgKind
	CreatedAt time.Time
}

// Role is what a person does in an organisation.
type Role string

const (
	RoleSocialWorker Role = "social-worker"
	RoleTeacher      Role = "teacher"
	RoleYouthWorker  Role = "youth-worker"
	RoleHealth       Role = "health-worker"
	RoleDPO          Role = "dpo"
)

// Membership ties a person to an organisation in a role. EndedAt is zero
// while the membership is active.
type Membership struct {
	ID             string
	PersonID       string
	OrganisationID string
	Role           Role
	StartedAt      time.Time
	EndedAt        time.Time
}

// ActiveAt reports whether the membership was in force at t.
func (m Membership) ActiveAt(t time.Time) bool {
	return !t.Before(m.StartedAt) && (m.EndedAt.IsZero() || t.Before(m.EndedAt))
}

// FamilyLink says that a family member is linked to a young person, and
// whether they may act for them (subject to the age rules).
type FamilyLink struct {
	FamilyID      string
	YoungPersonID string
	Relationship  string // in the young person's words: "mum", "grandad", "foster carer"
	CanAct        bool
	CreatedAt     time.Time
}

// Holding records that an organisation holds information of one category
// about a young person.
type Holding struct {
	ID             string
	OrganisationID string
	YoungPersonID  string
	Category       string
	Since          time.Time
	System         string // where it is kept, in words a young person understands
	Summary        string // what is held, shown to the professional who may read it
}

// Session is a signed-in browser. The store keeps only a hash of the id the
// browser holds.
type Session struct {
	IDHash     string
	PersonID   string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end, whatever the activity
}
