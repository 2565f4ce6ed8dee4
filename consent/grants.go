package consent

import (
	"context"
	"time"
)

// Grant lets one professional see one category of one young person's
// information for one purpose until a date. StoppedAt is zero while it runs.
type Grant struct {
	ID             string
	ProfessionalID string
	// OrganisationID is where the professional worked when it was granted:
	// the grant holds only while they still work there.
	OrganisationID string
	YoungPersonID  string
	Category       string
	Purpose        string
	GrantedBy      string // the person who said yes: the young person or a family member
	RequestID      string // the access request it answers, if any
	CreatedAt      time.Time
	Until          time.Time
	StoppedAt      time.Time
	StoppedBy      string
	// Statutory grants are opened by a professional under a statutory duty,
	// not given by the young person; RequestID then names the access.
	Statutory bool
	Condition string // the legal condition a statutory grant relies on
	// StoryVersion pins which version of a story section the professional
	// sees; 0 means the latest.
	StoryVersion int
}

// ActiveAt reports whether the grant is in force at t.
func (g Grant) ActiveAt(t time.Time) bool {
	return g.StoppedAt.IsZero() && t.Before(g.Until) && !t.Before(g.CreatedAt)
}

// Block stops a professional from seeing anything about a young person,
// whatever the grants say.
type Block struct {
	ProfessionalID string
	CreatedBy      string
	CreatedAt      time.Time
}

// Competence records a professional's assessment that a young person under
// the age threshold can decide for themselves.
type Competence struct {
	RecordedBy string
	RecordedAt time.Time
	Competent  bool
	Note       string // sealed under the young person's key
}

// Policy is everything that decides who may see one young person's
// information. It is one record so that a change is one atomic write on any
// store; Version goes up by one with every change, and every server instance
// compares it before trusting a cached decision.
type Policy struct {
	YoungPersonID string
	Version       int64
	Grants        []Grant
	Blocks        []Block
	Competence    []Competence
	Handovers     []Handover
	FamilyRules   []FamilyRule
}

// HandoverShare is one sharing a handover suggests passing on.
type HandoverShare struct {
	Category string
	Purpose  string
	Until    time.Time
}

// Handover records a professional leaving a young person's support: their
// sharing ended, their note to the young person, and whether the young
// person chose to share with the colleague taking over.
type Handover struct {
	ID             string
	FromID         string
	OrganisationID string
	SuccessorID    string
	Note           string // sealed under the young person's key
	CreatedAt      time.Time
	Shares         []HandoverShare
	Answer         HandoverAnswer // empty while waiting
	AnsweredBy     string
	AnsweredAt     time.Time
}

// HandoverAnswer is what the young person said about sharing with a successor.
type HandoverAnswer string

const (
	HandoverAccepted HandoverAnswer = "accepted"
	HandoverChanged  HandoverAnswer = "changed"
	HandoverDeclined HandoverAnswer = "declined"
)

// FamilyRule is what one family member may see and do, chosen by a young
// person who decides for themselves. Without a rule the defaults apply.
type FamilyRule struct {
	FamilyID string
	// See lists the categories whose information, sharing and "who has
	// looked" entries the family member may see.
	See []string
	// Act lets them answer requests and change sharing within See.
	Act   bool
	SetBy string
	SetAt time.Time
}

// RequestStatus is where an access request stands.
type RequestStatus string

const (
	RequestWaiting  RequestStatus = "waiting"
	RequestApproved RequestStatus = "approved"
	RequestPartly   RequestStatus = "partly-approved"
	RequestDeclined RequestStatus = "declined"
	RequestExpired  RequestStatus = "expired"
)

// AccessRequest is a professional asking to see some categories for a purpose.
type AccessRequest struct {
	ID             string
	ProfessionalID string
	OrganisationID string
	YoungPersonID  string
	Categories     []string
	Purpose        string
	Reason         string // the professional's own words
	DurationDays   int
	CreatedAt      time.Time
	ExpiresAt      time.Time // unanswered requests lapse then
	Status         RequestStatus
	Approved       []string // categories the young person said yes to
	DecidedBy      string
	DecidedAt      time.Time
	Message        string // optional words back to the professional
	// GrantsApplied is set once the grants for an approval exist, so an
	// approval interrupted between its two writes is finished on next read.
	GrantsApplied bool
}

// Question asks whether a professional may see one category of a young
// person's information for one purpose at a moment.
type Question struct {
	YoungPersonID  string
	ProfessionalID string
	// OrganisationID is the organisation the professional asks as; only
	// grants made to them there count.
	OrganisationID string
	Category       string
	Purpose        string
	At             time.Time
}

// Enforcer answers Questions from a young person's grants and blocks. It must
// see every change to the young person's Policy made before the call, on any
// server instance. Errors mean "could not decide" and must be treated as no.
type Enforcer interface {
	Allowed(ctx context.Context, q Question) (bool, error)
}
