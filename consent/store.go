package consent

import (
	"context"
	"time"
)

// Store keeps Sayso's records. Every method is one atomic step on a single
// record (or an append), so a store without multi-document transactions can
// implement it. Times come back in UTC at millisecond precision.
//
// Error contract: methods return ErrNotFound when the record asked for does
// not exist, ErrConflict when a create meets an existing id or unique value
// or a compare-and-set meets a newer version, ErrUnavailable (wrapped) when
// the backend cannot answer, and nothing else that callers need to match.
type Store interface {
	// CreatePerson stores a new person; ErrConflict if the id or subject is taken.
	CreatePerson(ctx context.Context, p Person) error
	// GetPerson returns the person with id, or ErrNotFound.
	GetPerson(ctx context.Context, id string) (Person, error)
	// PersonBySubject returns the person signed in as subject, or ErrNotFound.
	PersonBySubject(ctx context.Context, subject string) (Person, error)

	// CreateOrganisation stores a new organisation; ErrConflict if the id is taken.
	CreateOrganisation(ctx context.Context, o Organisation) error
	// GetOrganisation returns the organisation with id, or ErrNotFound.
	GetOrganisation(ctx context.Context, id string) (Organisation, error)

	// CreateMembership stores a new membership; ErrConflict if the id is taken.
	CreateMembership(ctx context.Context, m Membership) error
	// EndMembership sets when a membership ended; ErrNotFound if unknown.
	EndMembership(ctx context.Context, id string, at time.Time) error
	// MembershipsOf lists a person's memberships, oldest first.
	MembershipsOf(ctx context.Context, personID string) ([]Membership, error)

	// CreateFamilyLink stores a link; ErrConflict if the pair is already linked.
	CreateFamilyLink(ctx context.Context, l FamilyLink) error
	// FamilyOf lists the family links of a young person.
	FamilyOf(ctx context.Context, youngPersonID string) ([]FamilyLink, error)
	// ChildrenOf lists the family links in which personID is the family member.
	ChildrenOf(ctx context.Context, familyID string) ([]FamilyLink, error)

	// CreateHolding stores a holding; ErrConflict if the id is taken.
	CreateHolding(ctx context.Context, h Holding) error
	// HoldingsOf lists what is held about a young person, by organisation then category.
	HoldingsOf(ctx context.Context, youngPersonID string) ([]Holding, error)

	// GetPolicy returns the young person's policy record; a young person
	// with none yet gets an empty Policy with Version 0 and no error.
	GetPolicy(ctx context.Context, youngPersonID string) (Policy, error)
	// PolicyVersion returns just the version (0 if none), cheaply.
	PolicyVersion(ctx context.Context, youngPersonID string) (int64, error)
	// PutPolicy stores p if the stored version is p.Version-1 (0 meaning
	// none stored), else ErrConflict and nothing changes.
	PutPolicy(ctx context.Context, p Policy) error

	// CreateRequest stores a new access request; ErrConflict if the id is taken.
	CreateRequest(ctx context.Context, r AccessRequest) error
	// GetRequest returns a request, or ErrNotFound.
	GetRequest(ctx context.Context, id string) (AccessRequest, error)
	// UpdateRequest replaces a request if its stored status is from, else
	// ErrConflict (ErrNotFound if unknown). It is how a decision is taken once.
	UpdateRequest(ctx context.Context, r AccessRequest, from RequestStatus) error
	// RequestsFor lists a young person's requests, newest first.
	RequestsFor(ctx context.Context, youngPersonID string) ([]AccessRequest, error)
	// RequestsBy lists a professional's requests, newest first.
	RequestsBy(ctx context.Context, professionalID string) ([]AccessRequest, error)

	// CreateSession stores a new session; ErrConflict if the hash exists.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns a session by id hash, or ErrNotFound.
	GetSession(ctx context.Context, idHash string) (Session, error)
	// TouchSession records activity; ErrNotFound if the session is gone.
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	// DeleteSession ends a session; deleting a missing one is not an error.
	DeleteSession(ctx context.Context, idHash string) error

	// The disclosure log.
	LogStore
	// Young people's wrapped data-encryption keys.
	KeyStore
	// Concerns raised about log entries, and look-ups across records.
	ConcernStore
	DirectoryStore

	// UseOnce records that a one-time value (a nonce, a token id) was used,
	// keeping it until expires; ErrConflict if it was used before.
	UseOnce(ctx context.Context, key string, expires time.Time) error

	// Ping reports whether the store can answer.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Millis normalises t to what every store keeps: UTC, whole milliseconds.
func Millis(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// WrappedKey is a young person's data-encryption key, encrypted by the
// key-encryption key (KEK) whose key id is KEKID. Deleting it erases
// everything sealed under it.
type WrappedKey struct {
	YoungPersonID string
	Wrapped       []byte
	KEKID         uint32
	CreatedAt     time.Time
}

// KeyStore keeps wrapped keys. Error contract as for Store.
type KeyStore interface {
	// PutKey stores a new wrapped key; ErrConflict if the young person has one.
	PutKey(ctx context.Context, k WrappedKey) error
	// GetKey returns a young person's wrapped key, or ErrNotFound.
	GetKey(ctx context.Context, youngPersonID string) (WrappedKey, error)
	// ReplaceKey stores a rewrapped key if the stored one is still wrapped
	// by oldKEKID; ErrConflict if it is not, ErrNotFound if it is gone.
	ReplaceKey(ctx context.Context, k WrappedKey, oldKEKID uint32) error
	// DeleteKey removes a young person's key; a missing key is not an error.
	DeleteKey(ctx context.Context, youngPersonID string) error
	// KeysNotWrappedBy lists keys whose KEKID is not kekID, by young person
	// id after the given one, at most limit: the work left in a rotation.
	KeysNotWrappedBy(ctx context.Context, kekID uint32, after string, limit int) ([]WrappedKey, error)
}
