package consent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Channel is how information left Sayso.
type Channel string

const (
	ChannelPortal Channel = "portal" // a page a professional opened
	ChannelAPI    Channel = "api"    // the JSON API
	ChannelHolder Channel = "holder" // a decision answered for a holder system
)

// Outcome is what happened to an attempt.
type Outcome string

const (
	OutcomeDisclosed Outcome = "disclosed" // information was sent
	OutcomeRefused   Outcome = "refused"   // a read was refused
	OutcomePermitted Outcome = "permitted" // a holder system was told yes
	OutcomeDenied    Outcome = "denied"    // a holder system was told no

	// Entries that record decisions about disclosures rather than
	// disclosures; About names what they are about.
	OutcomeOpened   Outcome = "statutory-opened"   // a statutory access began (About: the access)
	OutcomeDelayed  Outcome = "telling-delayed"    // a DPO delayed telling the young person (About: the access)
	OutcomeReviewed Outcome = "statutory-reviewed" // a DPO reviewed a statutory access (About: the access)
	OutcomeAsked    Outcome = "question-asked"     // "why did you look?" (About: the question)
	OutcomeAnswered Outcome = "question-answered"  // the DPO's answer (About: the question)
)

// Shows reports whether an entry with outcome o showed information to someone.
func (o Outcome) Shows() bool { return o == OutcomeDisclosed || o == OutcomePermitted }

// Disclosure is one entry of the disclosure log: who looked (or tried to),
// at whose information, which part, why, on what basis, how, and what
// happened. The fields marked sealed are encrypted under the young person's
// key in the stored entry; the rest stay readable for look-ups and audit
// after the young person is erased.
type Disclosure struct {
	At             time.Time   `json:"at"`
	ActorID        string      `json:"actor"`
	ActorName      string      `json:"actorName"`
	ActorRole      Role        `json:"role,omitempty"`
	OrganisationID string      `json:"org,omitempty"`
	YoungPersonID  string      `json:"yp"`
	Category       string      `json:"category"`
	Purpose        string      `json:"purpose"`
	LawfulBasis    LawfulBasis `json:"basis,omitempty"`
	Channel        Channel     `json:"channel"`
	Outcome        Outcome     `json:"outcome"`
	Reason         Reason      `json:"reason,omitempty"`
	// Statutory marks a disclosure made under a statutory duty, without
	// consent, for the DPO to review; Condition is the law relied on.
	Statutory bool   `json:"statutory,omitempty"`
	Condition string `json:"condition,omitempty"`
	// About is the statutory access or question a decision entry is about.
	About string `json:"about,omitempty"`
	// ReviewBy is when a delay in telling the young person ends unless renewed.
	ReviewBy time.Time `json:"reviewBy,omitzero"`

	GrantID      string `json:"-"` // sealed
	HolderClient string `json:"-"` // sealed
	// Note is the words of a decision entry: a statutory reason, a delay
	// reason, a question or its answer (sealed).
	Note string `json:"-"`
	// Erased is set on a decoded entry whose sealed part can no longer be
	// opened because the young person's key was deleted.
	Erased bool `json:"-"`
}

type sealedPart struct {
	GrantID      string `json:"grant,omitempty"`
	HolderClient string `json:"holder,omitempty"`
	Note         string `json:"note,omitempty"`
}

type storedDisclosure struct {
	Disclosure
	Sealed []byte `json:"sealed"`
}

// entryMagic starts every stored entry, naming its format.
var entryMagic = []byte("sayso-disclosure/2\n")

// sealRecord names the record an entry's sealed part belongs to, so it
// cannot be moved to another entry.
func sealRecord(d Disclosure) string {
	return fmt.Sprintf("disclosure|%d|%s|%s|%s", d.At.UnixMilli(), d.ActorID, d.Category, d.Purpose)
}

// EncodeDisclosure is the stored form of an entry: a version line, then JSON
// with a fixed field order whose "sealed" field is the encrypted private
// part. The log's leaf hash commits to exactly these bytes, which are never
// rewritten: erasing the young person's key leaves them, and the tree,
// intact.
func EncodeDisclosure(ctx context.Context, sealer Sealer, d Disclosure) ([]byte, error) {
	d.At = Millis(d.At)
	d.ReviewBy = Millis(d.ReviewBy)
	private, err := json.Marshal(sealedPart{GrantID: d.GrantID, HolderClient: d.HolderClient, Note: d.Note})
	if err != nil {
		return nil, err
	}
	sealed, err := sealer.Seal(ctx, d.YoungPersonID, sealRecord(d), private)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Write(entryMagic)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(storedDisclosure{Disclosure: d, Sealed: sealed}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DisclosureHeader reads the readable part of a stored entry, without keys.
func DisclosureHeader(b []byte) (Disclosure, []byte, error) {
	rest, ok := bytes.CutPrefix(b, entryMagic)
	if !ok {
		return Disclosure{}, nil, fmt.Errorf("%w: not a disclosure entry", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	var sd storedDisclosure
	if err := dec.Decode(&sd); err != nil {
		return Disclosure{}, nil, fmt.Errorf("%w: disclosure entry: %v", ErrInvalid, err)
	}
	if dec.More() {
		return Disclosure{}, nil, fmt.Errorf("%w: disclosure entry has trailing data", ErrInvalid)
	}
	sd.At = sd.At.UTC()
	if !sd.ReviewBy.IsZero() {
		sd.ReviewBy = sd.ReviewBy.UTC()
	}
	return sd.Disclosure, sd.Sealed, nil
}

// DecodeDisclosure reads a stored entry and opens its sealed part. An entry
// of an erased young person decodes with Erased set.
func DecodeDisclosure(ctx context.Context, sealer Sealer, b []byte) (Disclosure, error) {
	d, sealed, err := DisclosureHeader(b)
	if err != nil {
		return Disclosure{}, err
	}
	plain, err := sealer.Open(ctx, d.YoungPersonID, sealRecord(d), sealed)
	if errors.Is(err, ErrErased) {
		d.Erased = true
		return d, nil
	}
	if err != nil {
		return Disclosure{}, err
	}
	var p sealedPart
	if err := json.Unmarshal(plain, &p); err != nil {
		return Disclosure{}, fmt.Errorf("%w: sealed part: %v", ErrInvalid, err)
	}
	d.GrantID, d.HolderClient, d.Note = p.GrantID, p.HolderClient, p.Note
	return d, nil
}

// LogEntry is a stored entry: its index in the log, its bytes, and the
// fields that look-ups need (a copy of what the bytes say).
type LogEntry struct {
	Index          int64
	Data           []byte
	At             time.Time
	YoungPersonID  string
	ActorID        string
	OrganisationID string
	Category       string
	Purpose        string
	LawfulBasis    LawfulBasis
	Outcome        Outcome
}

// EntryFor builds the stored entry for d at index.
func EntryFor(index int64, d Disclosure, data []byte) LogEntry {
	return LogEntry{Index: index, Data: data, At: Millis(d.At), YoungPersonID: d.YoungPersonID, ActorID: d.ActorID,
		OrganisationID: d.OrganisationID, Category: d.Category, Purpose: d.Purpose, LawfulBasis: d.LawfulBasis, Outcome: d.Outcome}
}

// StoredHash is one hash of the log's Merkle tree at its storage index (as
// golang.org/x/mod/sumdb/tlog numbers them).
type StoredHash struct {
	Index int64
	Hash  [32]byte
}

// DisclosureFilter narrows a DPO's view. Zero fields match everything.
type DisclosureFilter struct {
	From, To      time.Time // [From, To)
	ActorID       string
	YoungPersonID string
	Category      string
	Purpose       string
	LawfulBasis   LawfulBasis
	Outcome       Outcome
}

// LogStore keeps the disclosure log. Error contract as for Store.
type LogStore interface {
	// AppendLog stores entries at consecutive indexes from first, with the
	// tree hashes they add, as one durable step. ErrConflict (and nothing
	// stored) if first is not the current size.
	AppendLog(ctx context.Context, first int64, entries []LogEntry, hashes []StoredHash) error
	// LogSize is the number of entries.
	LogSize(ctx context.Context) (int64, error)
	// LogHashes returns the stored hashes at the given storage indexes, in
	// order; ErrNotFound if any is missing.
	LogHashes(ctx context.Context, indexes []int64) ([][32]byte, error)
	// LogEntries returns entries with index in [from, to), in index order.
	LogEntries(ctx context.Context, from, to int64) ([]LogEntry, error)
	// PutCheckpoint stores a signed checkpoint for a tree size; storing the
	// same size again is not an error and keeps the first.
	PutCheckpoint(ctx context.Context, size int64, signed []byte) error
	// Checkpoint returns the checkpoint for size, or ErrNotFound.
	Checkpoint(ctx context.Context, size int64) ([]byte, error)
	// LatestCheckpoint returns the checkpoint with the largest size, or ErrNotFound.
	LatestCheckpoint(ctx context.Context) (int64, []byte, error)
	// CheckpointSizes lists every checkpointed size, ascending.
	CheckpointSizes(ctx context.Context) ([]int64, error)
	// DisclosuresAbout returns the entries that showed a young person's
	// information to someone (outcome disclosed or permitted) with index <
	// before (all if before < 0), newest first, at most limit. Refusals are
	// left out here, so nobody can bury a feed under refused attempts.
	DisclosuresAbout(ctx context.Context, youngPersonID string, before int64, limit int) ([]LogEntry, error)
	// DisclosuresBy returns an organisation's entries matching f with index
	// > after, oldest first, at most limit.
	DisclosuresBy(ctx context.Context, organisationID string, f DisclosureFilter, after int64, limit int) ([]LogEntry, error)
}

// DisclosureLog records disclosures durably. Record returns only once the
// entry is durable, with its log index; an error means nothing may be
// disclosed.
type DisclosureLog interface {
	Record(ctx context.Context, d Disclosure) (int64, error)
}
