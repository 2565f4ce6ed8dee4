package consent

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Concern is a young person (or a family member acting for them) asking
// "why did you look?" about one entry of their "who has looked" list. It
// reaches the data protection officer of the organisation whose person
// looked, who must answer within QuestionWorkingDays working days; the
// question and the answer are both in the disclosure log.
type Concern struct {
	ID             string
	LogIndex       int64  // the disclosure log entry it is about
	YoungPersonID  string // whose information was looked at
	RaisedBy       string // the young person, or the family member acting for them
	OrganisationID string // the organisation whose person looked
	Message        string // optional words; sealed under the young person's key when stored
	CreatedAt      time.Time
	// Answer is the DPO's reply, empty until answered (sealed like Message).
	Answer     string
	AnsweredBy string
	AnsweredAt time.Time
}

// QuestionWorkingDays is how long a DPO has to answer "why did you look?".
const QuestionWorkingDays = 20

// DueBy is the end of the day the answer is due, in UK time.
func (c Concern) DueBy() time.Time { return AddWorkingDays(c.CreatedAt, QuestionWorkingDays) }

// Overdue reports whether the answer is late at now.
func (c Concern) Overdue(now time.Time) bool { return c.AnsweredBy == "" && now.After(c.DueBy()) }

// ConcernStore keeps concerns. Error contract as for Store.
type ConcernStore interface {
	// CreateConcern stores a new concern; ErrConflict if the id is taken.
	CreateConcern(ctx context.Context, c Concern) error
	// ConcernsFor lists the concerns about an organisation, newest first.
	ConcernsFor(ctx context.Context, organisationID string) ([]Concern, error)
	// ConcernsAbout lists the concerns raised about a young person's
	// information, newest first.
	ConcernsAbout(ctx context.Context, youngPersonID string) ([]Concern, error)
	// AnswerConcern records the answer to a concern once: ErrNotFound if
	// there is no such concern, ErrConflict if it was answered already.
	AnswerConcern(ctx context.Context, id, answer, answeredBy string, at time.Time) error
}

// DirectoryStore answers the look-ups that pages need across records.
// Error contract as for Store.
type DirectoryStore interface {
	// YoungPeopleHeldBy lists the ids of the young people an organisation
	// holds any information about, each once, ascending.
	YoungPeopleHeldBy(ctx context.Context, organisationID string) ([]string, error)
	// MembershipsIn lists an organisation's memberships (ended ones too),
	// oldest first.
	MembershipsIn(ctx context.Context, organisationID string) ([]Membership, error)
}

// sealedTextPrefix marks words the service sealed before storing them.
const sealedTextPrefix = "sealed-text:v1:"

// sealText seals a young person's words for one record; "" stays "".
func (s *Service) sealText(ctx context.Context, ypID, record, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	b, err := s.sealer.Seal(ctx, ypID, record, []byte(plain))
	if err != nil {
		return "", err
	}
	return sealedTextPrefix + base64.RawStdEncoding.EncodeToString(b), nil
}

// openText reverses sealText; an erased young person's words read as "".
func (s *Service) openText(ctx context.Context, ypID, record, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedTextPrefix)
	if !ok {
		return stored, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("%w: sealed text", ErrInvalid)
	}
	plain, err := s.sealer.Open(ctx, ypID, record, b)
	if errors.Is(err, ErrErased) {
		return "", nil
	}
	return string(plain), err
}

func (s *Service) openConcern(ctx context.Context, c Concern) (Concern, error) {
	var err error
	if c.Message, err = s.openText(ctx, c.YoungPersonID, "concern-message|"+c.ID, c.Message); err != nil {
		return c, err
	}
	c.Answer, err = s.openText(ctx, c.YoungPersonID, "concern-answer|"+c.ID, c.Answer)
	return c, err
}

// entryAt returns the decoded log entry at index, or ErrNotFound.
func (s *Service) entryAt(ctx context.Context, index int64) (Disclosure, error) {
	if index < 0 {
		return Disclosure{}, ErrNotFound
	}
	es, err := s.store.LogEntries(ctx, index, index+1)
	if err != nil {
		return Disclosure{}, err
	}
	if len(es) != 1 || es[0].Index != index {
		return Disclosure{}, ErrNotFound
	}
	return DecodeDisclosure(ctx, s.sealer, es[0].Data)
}

// RaiseConcern records that the entry at logIndex of ypID's "who has
// looked" list does not look right to the actor (the young person or someone
// who may act for them). It reaches the DPO of the organisation whose person
// looked. Errors: ErrNotFound (no such young person for this actor, or no
// such entry in their list), ErrInvalid (message too long).
func (s *Service) RaiseConcern(ctx context.Context, actorID, ypID string, logIndex int64, message string) (Concern, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return Concern{}, err
	}
	d, err := s.entryAt(ctx, logIndex)
	if err != nil {
		return Concern{}, err
	}
	if d.YoungPersonID != ypID || !d.Outcome.Shows() || d.OrganisationID == "" {
		return Concern{}, ErrNotFound
	}
	var hidden map[string]bool
	if d.Statutory {
		if hidden, err = s.hiddenFor(ctx, ypID); err != nil {
			return Concern{}, err
		}
	}
	if !s.visibleEntry(a, d, hidden) {
		return Concern{}, ErrNotFound
	}
	message = strings.TrimSpace(message)
	if len(message) > maxMessageLength {
		return Concern{}, Invalid("message", "is too long")
	}
	c := Concern{ID: NewID("c"), LogIndex: logIndex, YoungPersonID: ypID, RaisedBy: actorID, OrganisationID: d.OrganisationID,
		Message: message, CreatedAt: Millis(s.now())}
	stored := c
	if stored.Message, err = s.sealText(ctx, ypID, "concern-message|"+c.ID, message); err != nil {
		return Concern{}, err
	}
	// The question is in the log before the DPO can see it.
	asked := Disclosure{At: c.CreatedAt, ActorID: actorID, OrganisationID: d.OrganisationID, YoungPersonID: ypID, Category: d.Category,
		Purpose: d.Purpose, LawfulBasis: d.LawfulBasis, Channel: ChannelPortal, Outcome: OutcomeAsked, Statutory: d.Statutory, About: c.ID,
		Note: message}
	if p, err := s.store.GetPerson(ctx, actorID); err == nil {
		asked.ActorName = p.Name
	}
	if _, err := s.record(ctx, asked); err != nil {
		return Concern{}, err
	}
	if err := s.store.CreateConcern(ctx, stored); err != nil {
		return Concern{}, err
	}
	return c, nil
}

// ConcernsAbout lists the concerns raised about ypID's information, newest
// first, for the young person and those who may act for them.
func (s *Service) ConcernsAbout(ctx context.Context, actorID, ypID string) ([]Concern, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.ConcernsAbout(ctx, ypID)
	if err != nil {
		return nil, err
	}
	var hidden map[string]bool
	if a.family && len(cs) > 0 {
		if hidden, err = s.hiddenFor(ctx, ypID); err != nil {
			return nil, err
		}
	}
	out := cs[:0]
	for _, c := range cs {
		if a.family {
			d, err := s.entryAt(ctx, c.LogIndex)
			if err != nil {
				return nil, err
			}
			if !s.visibleEntry(a, d, hidden) {
				continue
			}
		}
		if c, err = s.openConcern(ctx, c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// OrgConcern is a concern with the log entry it is about.
type OrgConcern struct {
	Concern    Concern
	Disclosure Disclosure
}

// OrgConcerns lists the concerns about an organisation, newest first, for
// its DPO. Anyone else gets ErrNotFound.
func (s *Service) OrgConcerns(ctx context.Context, actorID, orgID string) ([]OrgConcern, error) {
	if ok, err := s.isDPO(ctx, actorID, orgID); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNotFound
	}
	cs, err := s.store.ConcernsFor(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]OrgConcern, 0, len(cs))
	for _, c := range cs {
		if c, err = s.openConcern(ctx, c); err != nil {
			return nil, err
		}
		d, err := s.entryAt(ctx, c.LogIndex)
		if err != nil {
			return nil, err
		}
		out = append(out, OrgConcern{Concern: c, Disclosure: d})
	}
	return out, nil
}

// AnswerConcern records the DPO's answer to one of their organisation's
// concerns; the young person sees it beside the entry. Errors: ErrNotFound,
// ErrInvalid (empty or too long), ErrConflict (answered already).
func (s *Service) AnswerConcern(ctx context.Context, actorID, orgID, concernID, answer string) (Concern, error) {
	if ok, err := s.isDPO(ctx, actorID, orgID); err != nil {
		return Concern{}, err
	} else if !ok {
		return Concern{}, ErrNotFound
	}
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return Concern{}, Invalid("answer", "write an answer")
	}
	if len(answer) > maxReasonLength {
		return Concern{}, Invalid("answer", "is too long")
	}
	cs, err := s.store.ConcernsFor(ctx, orgID)
	if err != nil {
		return Concern{}, err
	}
	for _, c := range cs {
		if c.ID != concernID {
			continue
		}
		if c.AnsweredBy != "" {
			return Concern{}, fmt.Errorf("%w: this concern has been answered already", ErrConflict)
		}
		sealed, err := s.sealText(ctx, c.YoungPersonID, "concern-answer|"+c.ID, answer)
		if err != nil {
			return Concern{}, err
		}
		now := Millis(s.now())
		d, err := s.entryAt(ctx, c.LogIndex)
		if err != nil {
			return Concern{}, err
		}
		answered := Disclosure{At: now, ActorID: actorID, ActorRole: RoleDPO, OrganisationID: orgID, YoungPersonID: c.YoungPersonID,
			Category: d.Category, Purpose: d.Purpose, LawfulBasis: d.LawfulBasis, Channel: ChannelPortal, Outcome: OutcomeAnswered,
			Statutory: d.Statutory, About: c.ID, Note: answer}
		if p, err := s.store.GetPerson(ctx, actorID); err == nil {
			answered.ActorName = p.Name
		}
		if _, err := s.record(ctx, answered); err != nil {
			return Concern{}, err
		}
		if err := s.store.AnswerConcern(ctx, c.ID, sealed, actorID, now); err != nil {
			return Concern{}, err
		}
		c, err = s.openConcern(ctx, c)
		c.Answer, c.AnsweredBy, c.AnsweredAt = answer, actorID, now
		return c, err
	}
	return Concern{}, ErrNotFound
}
