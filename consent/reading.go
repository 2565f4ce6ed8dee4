package consent

import (
	"context"
	"slices"
	"time"
)

// Reason says why a read was allowed or refused, as a stable code.
type Reason string

const (
	ReasonGranted            Reason = "granted"
	ReasonNoSharing          Reason = "no-sharing"          // nothing shared with this professional (or no such young person)
	ReasonNotProfessional    Reason = "not-a-professional"  // no active membership
	ReasonMembershipEnded    Reason = "membership-ended"    // they have left their organisation
	ReasonBlocked            Reason = "blocked"             // the young person blocked them
	ReasonWrongPurpose       Reason = "purpose-not-granted" // shared, but not for this purpose
	ReasonCategoryNotGranted Reason = "category-not-granted"
	ReasonStopped            Reason = "sharing-stopped"
	ReasonExpired            Reason = "sharing-ended"
	ReasonUnknownCategory    Reason = "unknown-category"
	ReasonUnknownPurpose     Reason = "unknown-purpose"
)

// Verdict is the answer to a Question, with the grant that allowed it.
type Verdict struct {
	Allowed bool
	Reason  Reason
	GrantID string
	// OrganisationID is the organisation the professional was judged as.
	OrganisationID string
	// Statutory is set for a question under a statutory purpose; when
	// allowed, Condition and AccessID name the statutory access used.
	Statutory bool
	Condition string
	AccessID  string
}

// Check decides q with the enforcer and, when refused, says which condition
// failed. Someone with no relationship to the young person learns only
// ReasonNoSharing, whether or not the young person exists. A failure to
// decide is an error and must be treated as a refusal.
func (s *Service) Check(ctx context.Context, q Question) (Verdict, error) {
	if q.At.IsZero() {
		q.At = s.now()
	}
	if _, ok := s.catalogue.Category(q.Category); !ok {
		return Verdict{Reason: ReasonUnknownCategory}, nil
	}
	if p, ok := s.catalogue.Purpose(q.Purpose); !ok {
		return Verdict{Reason: ReasonUnknownPurpose}, nil
	} else if p.Statutory {
		return s.checkStatutory(ctx, q)
	}
	ms, err := s.store.MembershipsOf(ctx, q.ProfessionalID)
	if err != nil {
		return Verdict{}, err
	}
	// The organisations the professional works for now; a question asked
	// as one organisation (a holder system's) counts only that one.
	var orgs []string
	ever := false
	for _, m := range ms {
		if m.Role == RoleDPO {
			continue
		}
		ever = true
		if m.ActiveAt(q.At) && (q.OrganisationID == "" || q.OrganisationID == m.OrganisationID) {
			orgs = append(orgs, m.OrganisationID)
		}
	}
	if !ever {
		return Verdict{Reason: ReasonNotProfessional}, nil
	}
	if len(orgs) == 0 {
		return Verdict{Reason: ReasonMembershipEnded, OrganisationID: q.OrganisationID}, nil
	}
	var pol *Policy
	for _, org := range orgs {
		q.OrganisationID = org
		allowed, err := s.enforcer.Allowed(ctx, q)
		if err != nil {
			return Verdict{}, err
		}
		if !allowed {
			continue
		}
		p, err := s.store.GetPolicy(ctx, q.YoungPersonID)
		if err != nil {
			return Verdict{}, err
		}
		pol = &p
		// Name the grant that covers it, for the log. The enforcer saw this
		// policy or an older one; if a stop or a block landed in between,
		// refuse rather than disclose.
		for _, b := range p.Blocks {
			if b.ProfessionalID == q.ProfessionalID {
				return Verdict{Reason: ReasonBlocked, OrganisationID: org}, nil
			}
		}
		for _, g := range p.Grants {
			if !g.Statutory && g.ProfessionalID == q.ProfessionalID && g.OrganisationID == org && g.ActiveAt(q.At) && s.catalogue.Contains(g.Category, q.Category) && s.purposeCovers(g.Purpose, q.Purpose) {
				return Verdict{Allowed: true, Reason: ReasonGranted, GrantID: g.ID, OrganisationID: org}, nil
			}
		}
		return Verdict{Reason: ReasonStopped, OrganisationID: org}, nil
	}
	if pol == nil {
		p, err := s.store.GetPolicy(ctx, q.YoungPersonID)
		if err != nil {
			return Verdict{}, err
		}
		pol = &p
	}
	q.OrganisationID = orgs[0]
	return Verdict{Reason: explain(s, *pol, q, orgs), OrganisationID: orgs[0]}, nil
}

func (s *Service) purposeCovers(granted, asked string) bool {
	for id := asked; id != ""; {
		if id == granted {
			return true
		}
		p, ok := s.catalogue.Purpose(id)
		if !ok {
			return false
		}
		id = p.Within
	}
	return false
}

// explain finds the first condition that failed, in the order a young
// person would check them.
func explain(s *Service, pol Policy, q Question, orgs []string) Reason {
	for _, b := range pol.Blocks {
		if b.ProfessionalID == q.ProfessionalID {
			return ReasonBlocked
		}
	}
	var theirs []Grant
	elsewhere := false
	for _, g := range pol.Grants {
		if g.ProfessionalID != q.ProfessionalID {
			continue
		}
		if slices.Contains(orgs, g.OrganisationID) {
			theirs = append(theirs, g)
		} else {
			elsewhere = true
		}
	}
	if len(theirs) == 0 {
		if elsewhere {
			// Shared with them where they used to work, not where they are.
			return ReasonMembershipEnded
		}
		return ReasonNoSharing
	}
	var sameCat []Grant
	for _, g := range theirs {
		if s.catalogue.Contains(g.Category, q.Category) {
			sameCat = append(sameCat, g)
		}
	}
	if len(sameCat) == 0 {
		return ReasonCategoryNotGranted
	}
	var matching []Grant
	for _, g := range sameCat {
		if s.purposeCovers(g.Purpose, q.Purpose) {
			matching = append(matching, g)
		}
	}
	if len(matching) == 0 {
		return ReasonWrongPurpose
	}
	for _, g := range matching {
		if !g.StoppedAt.IsZero() {
			return ReasonStopped
		}
	}
	return ReasonExpired
}

// Record is what a professional reads: the holdings in a category. A
// section of the young person's story has no organisation and a Version.
type Record struct {
	Holding      Holding
	Organisation Organisation
	Version      int
}

// Read is a professional's read of one category, decided and logged. The
// entry (for a refusal too) is durable before ReadRecords returns; LogIndex
// is its place in the log.
type Read struct {
	Verdict  Verdict
	Records  []Record
	LogIndex int64
}

// ReadRecords decides q and, when allowed, returns what is held about the
// young person in the category (and the categories inside it). Every attempt
// is written to the disclosure log first; if that fails, the answer is
// ErrUnavailable and nothing is returned.
func (s *Service) ReadRecords(ctx context.Context, q Question, ch Channel) (Read, error) {
	if q.At.IsZero() {
		q.At = s.now()
	}
	v, err := s.Check(ctx, q)
	if err != nil {
		return Read{}, err
	}
	var records []Record
	if v.Allowed {
		// Gather first, so a read that cannot be completed is not logged
		// as a disclosure.
		if records, err = s.recordsIn(ctx, q.YoungPersonID, q.Category, v.GrantID); err != nil {
			return Read{}, err
		}
	}
	d, err := s.disclosureFor(ctx, q, v, ch)
	if err != nil {
		return Read{}, err
	}
	d.Outcome = OutcomeRefused
	if v.Allowed {
		d.Outcome = OutcomeDisclosed
	}
	idx, err := s.record(ctx, d)
	if err != nil {
		return Read{}, err
	}
	return Read{Verdict: v, Records: records, LogIndex: idx}, nil
}

func (s *Service) recordsIn(ctx context.Context, ypID, category, grantID string) ([]Record, error) {
	hs, err := s.store.HoldingsOf(ctx, ypID)
	if err != nil {
		return nil, err
	}
	out, err := s.storyRecords(ctx, ypID, category, grantID, hs)
	if err != nil {
		return nil, err
	}
	orgs := map[string]Organisation{}
	for _, h := range hs {
		if isStory(h) || !s.catalogue.Contains(category, h.Category) {
			continue
		}
		org, ok := orgs[h.OrganisationID]
		if !ok {
			if org, err = s.store.GetOrganisation(ctx, h.OrganisationID); err != nil {
				return nil, err
			}
			orgs[h.OrganisationID] = org
		}
		out = append(out, Record{Holding: h, Organisation: org})
	}
	return out, nil
}

// HolderDecision answers a holder system's question and logs the answer
// before it is given: a permit is a disclosure the holder will make.
func (s *Service) HolderDecision(ctx context.Context, client string, q Question) (Verdict, int64, error) {
	if q.At.IsZero() {
		q.At = s.now()
	}
	v, err := s.Check(ctx, q)
	if err != nil {
		return Verdict{}, 0, err
	}
	d, err := s.disclosureFor(ctx, q, v, ChannelHolder)
	if err != nil {
		return Verdict{}, 0, err
	}
	d.HolderClient = client
	d.Outcome = OutcomeDenied
	if v.Allowed {
		d.Outcome = OutcomePermitted
	}
	idx, err := s.record(ctx, d)
	if err != nil {
		return Verdict{}, 0, err
	}
	return v, idx, nil
}

// Now is the service's clock, for callers that stamp what they do.
func (s *Service) Now() time.Time { return s.now() }
