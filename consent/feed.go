package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // dates are told in UK time on any machine
)

// LogTimeout is how long a disclosure waits for its log entry to be durable
// before it is refused.
const LogTimeout = 2 * time.Second

// roleWords says what a professional does, for sentences.
var roleWords = map[Role]string{
	RoleSocialWorker: "a social worker",
	RoleTeacher:      "a teacher",
	RoleYouthWorker:  "a youth worker",
	RoleHealth:       "a health worker",
	RoleDPO:          "a data protection officer",
}

// disclosureFor fills in who is asking and on what basis.
func (s *Service) disclosureFor(ctx context.Context, q Question, v Verdict, ch Channel) (Disclosure, error) {
	d := Disclosure{At: Millis(q.At), ActorID: q.ProfessionalID, YoungPersonID: q.YoungPersonID, Category: q.Category,
		Purpose: q.Purpose, GrantID: v.GrantID, Channel: ch, Reason: v.Reason}
	if p, ok := s.catalogue.Purpose(q.Purpose); ok {
		d.LawfulBasis, d.Statutory = p.Basis, p.Statutory
	}
	d.Condition, d.About = v.Condition, v.AccessID
	if person, err := s.store.GetPerson(ctx, q.ProfessionalID); err == nil {
		d.ActorName = person.Name
	} else if !errors.Is(err, ErrNotFound) {
		return Disclosure{}, err
	}
	ms, err := s.store.MembershipsOf(ctx, q.ProfessionalID)
	if err != nil {
		return Disclosure{}, err
	}
	// The organisation they were judged as; else the membership in force,
	// else the latest one: a leaver's attempt is still their organisation's
	// to review.
	for _, m := range ms {
		if m.Role == RoleDPO {
			continue
		}
		switch {
		case v.OrganisationID != "":
			if m.OrganisationID == v.OrganisationID {
				d.OrganisationID, d.ActorRole = m.OrganisationID, m.Role
			}
		case d.OrganisationID == "" || m.ActiveAt(q.At):
			d.OrganisationID, d.ActorRole = m.OrganisationID, m.Role
		}
	}
	return d, nil
}

// record writes d to the log within LogTimeout; any failure is
// ErrUnavailable and means nothing may be disclosed.
func (s *Service) record(ctx context.Context, d Disclosure) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, LogTimeout)
	defer cancel()
	idx, err := s.log.Record(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("%w: disclosure log: %v", ErrUnavailable, err)
	}
	return idx, nil
}

// FeedItem is one entry of a young person's "who has looked" list.
type FeedItem struct {
	Index      int64
	Disclosure Disclosure
	Sentence   string
}

// Feed lists who has seen ypID's information, newest first, for the young
// person and those who may act for them. before < 0 starts at the newest.
// Statutory access the DPO has delayed telling them about is left out until
// the delay's review date; family members see only what they may see.
func (s *Service) Feed(ctx context.Context, actorID, ypID string, before int64, limit int) ([]FeedItem, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var hidden map[string]bool
	var out []FeedItem
	for len(out) < limit {
		entries, err := s.store.DisclosuresAbout(ctx, ypID, before, limit)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			before = e.Index
			d, err := DecodeDisclosure(ctx, s.sealer, e.Data)
			if err != nil {
				return nil, err
			}
			if d.Statutory && hidden == nil {
				if hidden, err = s.hiddenFor(ctx, ypID); err != nil {
					return nil, err
				}
			}
			if !s.visibleEntry(a, d, hidden) {
				continue
			}
			out = append(out, FeedItem{Index: e.Index, Disclosure: d, Sentence: s.sentence(ctx, d, actorID == ypID, a.yp)})
			if len(out) == limit {
				break
			}
		}
		if len(entries) < limit {
			break
		}
	}
	return out, nil
}

// hiddenFor returns the statutory accesses ypID is not to be told of yet,
// looking at the organisations whose statutory roles could have opened one.
func (s *Service) hiddenFor(ctx context.Context, ypID string) (map[string]bool, error) {
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return nil, err
	}
	return s.hiddenIn(ctx, pol)
}

// hiddenIn is hiddenFor with the young person's policy in hand.
func (s *Service) hiddenIn(ctx context.Context, pol Policy) (map[string]bool, error) {
	var orgs []string
	for _, g := range pol.Grants {
		if g.Statutory && !slices.Contains(orgs, g.OrganisationID) {
			orgs = append(orgs, g.OrganisationID)
		}
	}
	if len(orgs) == 0 {
		return map[string]bool{}, nil
	}
	return s.hiddenAccesses(ctx, pol.YoungPersonID, orgs, pol)
}

// visibleEntry reports whether the actor with access a may see entry d,
// given the accesses hidden from the young person.
func (s *Service) visibleEntry(a access, d Disclosure, hidden map[string]bool) bool {
	return a.sees(s, d.Category) && (!d.Statutory || (a.seesStatutory(s) && !hidden[d.About]))
}

// sentence tells one disclosure in plain words, to the young person
// ("your address") or to someone acting for them ("Leo's address").
func (s *Service) sentence(ctx context.Context, d Disclosure, toYoungPerson bool, yp Person) string {
	who := d.ActorName
	if who == "" {
		who = "Someone"
	}
	if r, ok := roleWords[d.ActorRole]; ok {
		who += ", " + r
		if org, err := s.store.GetOrganisation(ctx, d.OrganisationID); err == nil {
			who += " at " + org.Name + ","
		}
	}
	what := d.Category
	if c, ok := s.catalogue.Category(d.Category); ok {
		what = c.Name
	}
	if !toYoungPerson {
		what = possessive(firstName(yp.Name)) + trimYour(what)
	}
	why := ""
	if p, ok := s.catalogue.Purpose(d.Purpose); ok {
		why = " " + p.Sentence
		if !toYoungPerson {
			why = " " + theirWords(p.Sentence)
		}
	}
	verb := "looked at"
	if d.Outcome == OutcomePermitted {
		verb = "was allowed to see"
	}
	out := fmt.Sprintf("%s %s %s on %s%s.", who, verb, what, ukDate(d.At), why)
	if d.Statutory {
		if toYoungPerson {
			out += " The law says they must do this, so they did not need to ask you first."
		} else {
			out += " The law says they must do this, so they did not need to ask first."
		}
	}
	return out
}

func firstName(name string) string {
	for i, r := range name {
		if r == ' ' {
			return name[:i]
		}
	}
	return name
}

func possessive(name string) string {
	if name == "" {
		return "their "
	}
	if name[len(name)-1] == 's' {
		return name + "' "
	}
	return name + "'s "
}

// trimYour turns "your address" into "address".
func trimYour(s string) string {
	if len(s) > 5 && s[:5] == "your " {
		return s[5:]
	}
	return s
}

// theirWords turns a sentence written to the young person into one about them.
func theirWords(s string) string {
	out := []byte{}
	for i := 0; i < len(s); {
		switch {
		case i+5 <= len(s) && s[i:i+5] == "your " && (i == 0 || s[i-1] == ' '):
			out = append(out, "their "...)
			i += 5
		case i+3 <= len(s) && s[i:i+3] == "you" && (i == 0 || s[i-1] == ' ') && (i+3 == len(s) || s[i+3] == ' '):
			out = append(out, "them"...)
			i += 3
		default:
			out = append(out, s[i])
			i++
		}
	}
	return string(out)
}

var london = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return loc
	}
	return time.UTC
}()

// ukDate is "Tuesday 3 March", with the year when it is not this one.
func ukDate(t time.Time) string {
	t = t.In(london)
	if t.Year() != time.Now().In(london).Year() {
		return t.Format("Monday 2 January 2006")
	}
	return t.Format("Monday 2 January")
}

// Logged is a decoded log entry and its index.
type Logged struct {
	Index      int64
	Disclosure Disclosure
}

// OrgDisclosures lists an organisation's log entries for its DPO, oldest
// first after the cursor. Anyone else gets ErrNotFound.
func (s *Service) OrgDisclosures(ctx context.Context, actorID, orgID string, f DisclosureFilter, after int64, limit int) ([]Logged, error) {
	ok, err := s.isDPO(ctx, actorID, orgID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	entries, err := s.store.DisclosuresBy(ctx, orgID, f, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Logged, 0, len(entries))
	for _, e := range entries {
		d, err := DecodeDisclosure(ctx, s.sealer, e.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, Logged{Index: e.Index, Disclosure: d})
	}
	return out, nil
}

func (s *Service) isDPO(ctx context.Context, personID, orgID string) (bool, error) {
	ms, err := s.store.MembershipsOf(ctx, personID)
	if err != nil {
		return false, err
	}
	now := s.now()
	for _, m := range ms {
		if m.OrganisationID == orgID && m.Role == RoleDPO && m.ActiveAt(now) {
			return true, nil
		}
	}
	return false, nil
}
