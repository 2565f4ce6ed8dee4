package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// NewRequest is what a professional asks for.
type NewRequest struct {
	Categories   []string
	Purpose      string
	Reason       string
	DurationDays int // 0: the default grant length
}

// Ask records a professional's request to see some of ypID's information.
// Only a professional whose organisation holds information about the young
// person may ask; anyone else gets ErrNotFound.
func (s *Service) Ask(ctx context.Context, profID, ypID string, in NewRequest) (AccessRequest, error) {
	now := Millis(s.now())
	m, ok, err := s.activeMembership(ctx, profID, now)
	if err != nil {
		return AccessRequest{}, err
	}
	if !ok {
		return AccessRequest{}, fmt.Errorf("%w: only a professional working with an organisation can ask", ErrForbidden)
	}
	if yp, err := s.store.GetPerson(ctx, ypID); err != nil || !yp.IsYoungPerson() {
		return AccessRequest{}, ErrNotFound
	}
	if works, err := s.worksWith(ctx, profID, ypID, now); err != nil {
		return AccessRequest{}, err
	} else if !works {
		return AccessRequest{}, ErrNotFound
	}
	// Someone the young person has blocked may not keep asking.
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return AccessRequest{}, err
	}
	for _, b := range pol.Blocks {
		if b.ProfessionalID == profID {
			return AccessRequest{}, ErrNotFound
		}
	}
	if len(in.Categories) == 0 {
		return AccessRequest{}, Invalid("categories", "choose at least one kind of information")
	}
	seen := map[string]bool{}
	for _, c := range in.Categories {
		if _, ok := s.catalogue.Category(c); !ok {
			return AccessRequest{}, Invalid("categories", fmt.Sprintf("%q is not a category Sayso knows", c))
		}
		if seen[c] {
			return AccessRequest{}, Invalid("categories", fmt.Sprintf("%q is listed twice", c))
		}
		seen[c] = true
	}
	if p, ok := s.catalogue.Purpose(in.Purpose); !ok || p.Statutory {
		return AccessRequest{}, Invalid("purpose", "not a purpose that can be asked for")
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return AccessRequest{}, Invalid("reason", "say in your own words why you are asking")
	}
	if len(reason) > maxReasonLength {
		return AccessRequest{}, Invalid("reason", "is too long")
	}
	if in.DurationDays == 0 {
		in.DurationDays = int(DefaultGrantLength / (24 * time.Hour))
	}
	if in.DurationDays < 1 || time.Duration(in.DurationDays)*24*time.Hour > MaxGrantLength {
		return AccessRequest{}, Invalid("durationDays", "must be from 1 day to 2 years")
	}
	r := AccessRequest{
		ID: NewID("q"), ProfessionalID: profID, OrganisationID: m.OrganisationID, YoungPersonID: ypID,
		Categories: slices.Clone(in.Categories), Purpose: in.Purpose, Reason: reason, DurationDays: in.DurationDays,
		CreatedAt: now, ExpiresAt: now.Add(RequestLifetime), Status: RequestWaiting,
	}
	return r, s.store.CreateRequest(ctx, r)
}

// Requests lists ypID's requests for someone who may see them, newest first.
func (s *Service) Requests(ctx context.Context, actorID, ypID string) ([]AccessRequest, error) {
	if a, err := s.accessTo(ctx, actorID, ypID); err == nil {
		rs, err := s.store.RequestsFor(ctx, ypID)
		if err != nil {
			return nil, err
		}
		if rs, err = s.settle(ctx, rs); err != nil {
			return nil, err
		}
		// A family member sees only requests that ask for nothing withheld
		// from them: they can neither see nor answer the rest.
		return slices.DeleteFunc(rs, func(r AccessRequest) bool { return !a.seesAll(s, r.Categories) }), nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	// A professional sees only their own requests about this young person.
	rs, err := s.store.RequestsBy(ctx, actorID)
	if err != nil {
		return nil, err
	}
	rs = slices.DeleteFunc(rs, func(r AccessRequest) bool { return r.YoungPersonID != ypID })
	if len(rs) == 0 {
		return nil, ErrNotFound
	}
	return s.settle(ctx, rs)
}

// settle brings requests up to date: lapsed ones are marked expired, and an
// approval whose grants were interrupted is finished.
func (s *Service) settle(ctx context.Context, rs []AccessRequest) ([]AccessRequest, error) {
	now := s.now()
	for i, r := range rs {
		switch {
		case r.Status == RequestWaiting && !now.Before(r.ExpiresAt):
			r.Status = RequestExpired
			if err := s.store.UpdateRequest(ctx, r, RequestWaiting); err != nil && !errors.Is(err, ErrConflict) {
				return nil, err
			}
			if fresh, err := s.store.GetRequest(ctx, r.ID); err == nil {
				r = fresh
			}
		case (r.Status == RequestApproved || r.Status == RequestPartly) && !r.GrantsApplied:
			var err error
			if r, err = s.applyApproval(ctx, r); err != nil {
				return nil, err
			}
		}
		rs[i] = r
	}
	return rs, nil
}

// Decision is a young person's answer to a request.
type Decision struct {
	Approve []string // categories to share; empty declines
	Message string
}

// Decide answers a waiting request: approve all, some or none. Approval
// creates one grant per approved category. Errors: ErrNotFound,
// ErrForbidden (actor may not decide), ErrConflict (already answered or
// expired), ErrInvalid (a category that was not asked for).
func (s *Service) Decide(ctx context.Context, actorID, ypID, requestID string, d Decision) (AccessRequest, []Grant, error) {
	a, err := s.mayDecide(ctx, actorID, ypID)
	if err != nil {
		return AccessRequest{}, nil, err
	}
	r, err := s.store.GetRequest(ctx, requestID)
	if err != nil || r.YoungPersonID != ypID || !a.seesAll(s, r.Categories) {
		return AccessRequest{}, nil, ErrNotFound
	}
	now := Millis(s.now())
	if r.Status == RequestWaiting && !now.Before(r.ExpiresAt) {
		return AccessRequest{}, nil, fmt.Errorf("%w: this request has expired", ErrConflict)
	}
	if r.Status != RequestWaiting {
		return AccessRequest{}, nil, fmt.Errorf("%w: this request has already been answered", ErrConflict)
	}
	approved := []string{}
	for _, c := range d.Approve {
		if !slices.Contains(r.Categories, c) || !a.sees(s, c) {
			return AccessRequest{}, nil, Invalid("approve", fmt.Sprintf("%q was not asked for", c))
		}
		if !slices.Contains(approved, c) {
			approved = append(approved, c)
		}
	}
	if len(d.Message) > maxMessageLength {
		return AccessRequest{}, nil, Invalid("message", "is too long")
	}
	switch {
	case len(approved) == 0:
		r.Status = RequestDeclined
	case len(approved) == len(r.Categories):
		r.Status = RequestApproved
	default:
		r.Status = RequestPartly
	}
	r.Approved, r.DecidedBy, r.DecidedAt, r.Message = approved, actorID, now, strings.TrimSpace(d.Message)
	r.GrantsApplied = r.Status == RequestDeclined
	// Step one: the answer is taken exactly once.
	if err := s.store.UpdateRequest(ctx, r, RequestWaiting); err != nil {
		if errors.Is(err, ErrConflict) {
			return AccessRequest{}, nil, fmt.Errorf("%w: this request has already been answered", ErrConflict)
		}
		return AccessRequest{}, nil, err
	}
	if r.Status == RequestDeclined {
		return r, nil, nil
	}
	// Step two: the grants. If this instance dies here, settle finishes it.
	r, err = s.applyApproval(ctx, r)
	if err != nil {
		return AccessRequest{}, nil, err
	}
	pol, err := s.store.GetPolicy(ctx, ypID)
	if err != nil {
		return AccessRequest{}, nil, err
	}
	var grants []Grant
	for _, g := range pol.Grants {
		if g.RequestID == r.ID {
			grants = append(grants, g)
		}
	}
	return r, grants, nil
}

// applyApproval adds the grants an approval promised, at most once each,
// then marks the request done.
func (s *Service) applyApproval(ctx context.Context, r AccessRequest) (AccessRequest, error) {
	until := r.DecidedAt.Add(time.Duration(r.DurationDays) * 24 * time.Hour)
	if _, err := s.updatePolicy(ctx, r.YoungPersonID, func(p *Policy) error {
		for _, c := range r.Approved {
			exists := slices.ContainsFunc(p.Grants, func(g Grant) bool { return g.RequestID == r.ID && g.Category == c })
			if !exists {
				p.Grants = append(p.Grants, Grant{
					ID: NewID("g"), ProfessionalID: r.ProfessionalID, OrganisationID: r.OrganisationID, YoungPersonID: r.YoungPersonID, Category: c, Purpose: r.Purpose,
					GrantedBy: r.DecidedBy, RequestID: r.ID, CreatedAt: r.DecidedAt, Until: until,
				})
			}
		}
		return nil
	}); err != nil {
		return r, err
	}
	from := r.Status
	r.GrantsApplied = true
	if err := s.store.UpdateRequest(ctx, r, from); err != nil && !errors.Is(err, ErrConflict) {
		return r, err
	}
	return r, nil
}
