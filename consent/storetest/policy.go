package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"sayso/consent"
)

// policy returns a full policy for yp at version v; its content differs
// by version, so a write that should not have happened shows up.
func policy(yp string, v int64) consent.Policy {
	return consent.Policy{
		YoungPersonID: yp,
		Version:       v,
		Grants: []consent.Grant{
			{
				ID: fmt.Sprintf("g%d-stopped", v), ProfessionalID: "pro1", YoungPersonID: yp, Category: "health", Purpose: "health-care",
				GrantedBy: yp, RequestID: "r1", CreatedAt: at(0), Until: at(90 * day), StoppedAt: at(10 * day), StoppedBy: "fam1",
			},
			{
				ID: fmt.Sprintf("g%d-running", v), ProfessionalID: "pro2", YoungPersonID: yp, Category: "education", Purpose: "education-support",
				GrantedBy: "fam1", CreatedAt: at(day), Until: at(30 * day), StoryVersion: 2,
			},
			{
				ID: fmt.Sprintf("g%d-statutory", v), ProfessionalID: "pro1", OrganisationID: "org1", YoungPersonID: yp, Category: "social-care",
				Purpose: "child-protection-enquiry", GrantedBy: "pro1", RequestID: "sa1", CreatedAt: at(day), Until: at(day + 72*60*60*1000),
				Statutory: true, Condition: "dpa2018-sch1-para18",
			},
		},
		Blocks: []consent.Block{
			{ProfessionalID: "pro3", CreatedBy: yp, CreatedAt: at(2 * day)},
			{ProfessionalID: "pro4", CreatedBy: "fam1", CreatedAt: at(3 * day)},
		},
		Competence: []consent.Competence{
			{RecordedBy: "pro1", RecordedAt: at(4 * day), Competent: false, Note: fmt.Sprintf("not yet (v%d)", v)},
			{RecordedBy: "pro2", RecordedAt: at(5 * day), Competent: true, Note: "understands the choices"},
		},
		Handovers: []consent.Handover{
			{
				ID: "h1", FromID: "pro1", OrganisationID: "org1", SuccessorID: "pro5", Note: fmt.Sprintf("sealed note v%d", v), CreatedAt: at(6 * day),
				Shares: []consent.HandoverShare{{Category: "address", Purpose: "home-visit", Until: at(60 * day)}},
				Answer: consent.HandoverChanged, AnsweredBy: yp, AnsweredAt: at(7 * day),
			},
			{ID: "h2", FromID: "pro2", OrganisationID: "org2", CreatedAt: at(8 * day)},
		},
		FamilyRules: []consent.FamilyRule{
			{FamilyID: "fam1", See: []string{"education", "health"}, Act: true, SetBy: yp, SetAt: at(9 * day)},
			{FamilyID: "fam2", See: []string{}, SetBy: yp, SetAt: at(9 * day)},
		},
	}
}

// putVersions stores versions 1..n of yp's policy and returns the last.
func putVersions(t *testing.T, s consent.Store, yp string, n int64) consent.Policy {
	t.Helper()
	p := consent.Policy{YoungPersonID: yp}
	for v := int64(1); v <= n; v++ {
		p = policy(yp, v)
		must(t, s.PutPolicy(t.Context(), p), fmt.Sprintf("PutPolicy(%s v%d)", yp, v))
	}
	return p
}

func testPolicy(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("UnknownIsVersionZero", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		got, err := s.GetPolicy(ctx, "yp1")
		if err != nil || got.Version != 0 || len(got.Grants)+len(got.Blocks)+len(got.Competence) != 0 {
			t.Errorf("GetPolicy(yp1) = %+v, %v, want empty version 0, nil", got, err)
		}
		v, err := s.PolicyVersion(ctx, "yp1")
		if err != nil || v != 0 {
			t.Errorf("PolicyVersion(yp1) = %d, %v, want 0, nil", v, err)
		}
	})
	t.Run("PutGet", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		for v := int64(1); v <= 3; v++ {
			p := policy("yp1", v)
			must(t, s.PutPolicy(ctx, p), fmt.Sprintf("PutPolicy(v%d)", v))
			got, err := s.GetPolicy(ctx, "yp1")
			must(t, err, "GetPolicy")
			if !same(got, p) {
				t.Errorf("GetPolicy(yp1) after v%d = %+v, want %+v", v, got, p)
			}
			if got, err := s.PolicyVersion(ctx, "yp1"); err != nil || got != v {
				t.Errorf("PolicyVersion(yp1) = %d, %v, want %d, nil", got, err, v)
			}
		}
	})
	t.Run("EmptyPolicy", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		p := consent.Policy{YoungPersonID: "yp1", Version: 1}
		must(t, s.PutPolicy(ctx, p), "PutPolicy")
		got, err := s.GetPolicy(ctx, "yp1")
		if err != nil || !same(got, p) {
			t.Errorf("GetPolicy(yp1) = %+v, %v, want %+v", got, err, p)
		}
	})
	t.Run("StaleVersion", func(t *testing.T) {
		for _, tc := range []struct {
			stored, put int64
		}{
			{stored: 0, put: 2},
			{stored: 1, put: 1},
			{stored: 2, put: 1},
			{stored: 2, put: 2},
			{stored: 2, put: 4},
		} {
			t.Run(fmt.Sprintf("Stored%dPut%d", tc.stored, tc.put), func(t *testing.T) {
				s, ctx := newStore(t), t.Context()
				before := putVersions(t, s, "yp1", tc.stored)
				stale := policy("yp1", tc.put)
				stale.Blocks = nil
				wantErr(t, fmt.Sprintf("PutPolicy(v%d over v%d)", tc.put, tc.stored), s.PutPolicy(ctx, stale), consent.ErrConflict)
				got, err := s.GetPolicy(ctx, "yp1")
				if err != nil || got.Version != tc.stored || (tc.stored > 0 && !same(got, before)) {
					t.Errorf("GetPolicy(yp1) = %+v, %v, want %+v unchanged", got, err, before)
				}
			})
		}
	})
	t.Run("YoungPeopleIndependent", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		putVersions(t, s, "yp1", 3)
		p := policy("yp2", 1)
		must(t, s.PutPolicy(ctx, p), "PutPolicy(yp2 v1)")
		if got, err := s.GetPolicy(ctx, "yp2"); err != nil || !same(got, p) {
			t.Errorf("GetPolicy(yp2) = %+v, %v, want %+v", got, err, p)
		}
		if got, err := s.PolicyVersion(ctx, "yp1"); err != nil || got != 3 {
			t.Errorf("PolicyVersion(yp1) = %d, %v, want 3, nil", got, err)
		}
	})
	// N writers each add one grant by read-modify-write, retrying on
	// ErrConflict: no update may be lost.
	t.Run("ConcurrentNoLostUpdate", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		const n = 16
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				g := consent.Grant{ID: fmt.Sprintf("g%02d", i), ProfessionalID: "pro1", YoungPersonID: "yp1",
					Category: "health", Purpose: "health-care", CreatedAt: at(0), Until: at(day)}
				for attempt := 0; attempt < 1000; attempt++ {
					p, err := s.GetPolicy(ctx, "yp1")
					if err != nil {
						t.Errorf("writer %d: GetPolicy: %v", i, err)
						return
					}
					p.YoungPersonID = "yp1"
					p.Grants = append(p.Grants, g)
					p.Version++
					err = s.PutPolicy(ctx, p)
					if err == nil {
						return
					}
					if !errors.Is(err, consent.ErrConflict) {
						t.Errorf("writer %d: PutPolicy: %v", i, err)
						return
					}
				}
				t.Errorf("writer %d: no success after 1000 attempts", i)
			})
		}
		wg.Wait()
		got, err := s.GetPolicy(ctx, "yp1")
		must(t, err, "GetPolicy")
		gotIDs := ids(got.Grants, func(g consent.Grant) string { return g.ID })
		slices.Sort(gotIDs)
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("g%02d", i))
		}
		if got.Version != n || !slices.Equal(gotIDs, want) {
			t.Errorf("after %d writers GetPolicy(yp1) = version %d, grants %v; want version %d, grants %v", n, got.Version, gotIDs, n, want)
		}
	})
}

// request returns a waiting request with every field a waiting one has.
func request(id, yp, pro string, created time.Time) consent.AccessRequest {
	return consent.AccessRequest{
		ID: id, ProfessionalID: pro, OrganisationID: "o1", YoungPersonID: yp,
		Categories: []string{"health", "education"}, Purpose: "plan-support", Reason: "to plan your support",
		DurationDays: 30, CreatedAt: created, ExpiresAt: created.Add(14 * day), Status: consent.RequestWaiting,
	}
}

// decided is r answered by the young person.
func decided(r consent.AccessRequest, by string) consent.AccessRequest {
	r.Status = consent.RequestPartly
	r.Approved = []string{"health"}
	r.DecidedBy = by
	r.DecidedAt = r.CreatedAt.Add(36*time.Hour + 987654321)
	r.Message = "only health, please"
	r.GrantsApplied = true
	return r
}

func testRequests(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("CreateGet", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			r    consent.AccessRequest
		}{
			{"Waiting", request("r1", "yp1", "pro1", at(0))},
			{"Decided", decided(request("r1", "yp1", "pro1", at(0)), "yp1")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, ctx := newStore(t), t.Context()
				must(t, s.CreateRequest(ctx, tc.r), "CreateRequest")
				got, err := s.GetRequest(ctx, "r1")
				must(t, err, "GetRequest")
				if !same(got, tc.r) {
					t.Errorf("GetRequest(r1) = %+v, want %+v", got, tc.r)
				}
			})
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetRequest(t.Context(), "nothing")
		wantErr(t, "GetRequest(nothing)", err, consent.ErrNotFound)
	})
	t.Run("CreateDuplicateID", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.CreateRequest(ctx, request("r1", "yp1", "pro1", at(0))), "CreateRequest")
		wantErr(t, "CreateRequest(r1 again)", s.CreateRequest(ctx, request("r1", "yp2", "pro2", at(day))), consent.ErrConflict)
	})
	t.Run("Update", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			from    consent.RequestStatus
			want    error
			changed bool
		}{
			{"FromStoredStatus", consent.RequestWaiting, nil, true},
			{"FromOtherStatus", consent.RequestApproved, consent.ErrConflict, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, ctx := newStore(t), t.Context()
				r := request("r1", "yp1", "pro1", at(0))
				must(t, s.CreateRequest(ctx, r), "CreateRequest")
				d := decided(r, "yp1")
				wantErr(t, fmt.Sprintf("UpdateRequest(r1, from %s)", tc.from), s.UpdateRequest(ctx, d, tc.from), tc.want)
				want := r
				if tc.changed {
					want = d
				}
				if got, err := s.GetRequest(ctx, "r1"); err != nil || !same(got, want) {
					t.Errorf("GetRequest(r1) = %+v, %v, want %+v", got, err, want)
				}
			})
		}
	})
	t.Run("UpdateUnknown", func(t *testing.T) {
		s := newStore(t)
		r := request("nothing", "yp1", "pro1", at(0))
		wantErr(t, "UpdateRequest(nothing)", s.UpdateRequest(t.Context(), r, consent.RequestWaiting), consent.ErrNotFound)
	})
	t.Run("ConcurrentDecidersOneWins", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		r := request("r1", "yp1", "pro1", at(0))
		must(t, s.CreateRequest(ctx, r), "CreateRequest")
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.UpdateRequest(ctx, decided(r, fmt.Sprintf("decider-%d", i)), consent.RequestWaiting)
			})
		}
		wg.Wait()
		ok, conflicts := count(errs)
		if ok != 1 || conflicts != n-1 {
			t.Fatalf("%d concurrent UpdateRequest: %d succeeded, %d conflicted (errors %v), want 1 and %d", n, ok, conflicts, errs, n-1)
		}
		winner := fmt.Sprintf("decider-%d", slices.IndexFunc(errs, func(err error) bool { return err == nil }))
		if got, err := s.GetRequest(ctx, "r1"); err != nil || got.DecidedBy != winner {
			t.Errorf("GetRequest(r1) = DecidedBy %q, %v, want %q (the one that succeeded)", got.DecidedBy, err, winner)
		}
	})
	t.Run("Lists", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		for _, r := range []consent.AccessRequest{
			request("r-mid", "yp1", "pro1", at(day)),
			request("r-old", "yp1", "pro2", at(0)),
			request("r-new", "yp1", "pro1", at(2*day)),
			request("r-other-yp", "yp2", "pro1", at(3*day)),
			request("r-other-pro", "yp2", "pro3", at(4*day)),
		} {
			must(t, s.CreateRequest(ctx, r), "CreateRequest")
		}
		id := func(r consent.AccessRequest) string { return r.ID }
		for _, tc := range []struct {
			name string
			list func() ([]consent.AccessRequest, error)
			want []string
		}{
			{"RequestsFor(yp1)", func() ([]consent.AccessRequest, error) { return s.RequestsFor(ctx, "yp1") }, []string{"r-new", "r-mid", "r-old"}},
			{"RequestsFor(yp2)", func() ([]consent.AccessRequest, error) { return s.RequestsFor(ctx, "yp2") }, []string{"r-other-pro", "r-other-yp"}},
			{"RequestsBy(pro1)", func() ([]consent.AccessRequest, error) { return s.RequestsBy(ctx, "pro1") }, []string{"r-other-yp", "r-new", "r-mid"}},
			{"RequestsBy(pro2)", func() ([]consent.AccessRequest, error) { return s.RequestsBy(ctx, "pro2") }, []string{"r-old"}},
			{"RequestsFor(nobody)", func() ([]consent.AccessRequest, error) { return s.RequestsFor(ctx, "nobody") }, []string{}},
			{"RequestsBy(nobody)", func() ([]consent.AccessRequest, error) { return s.RequestsBy(ctx, "nobody") }, []string{}},
		} {
			got, err := tc.list()
			if err != nil || !slices.Equal(ids(got, id), tc.want) {
				t.Errorf("%s = %v, %v, want %v, nil", tc.name, ids(got, id), err, tc.want)
			}
		}
		// The listed records are whole, not just ids.
		got, err := s.RequestsFor(ctx, "yp1")
		if want := request("r-new", "yp1", "pro1", at(2*day)); err != nil || len(got) == 0 || !same(got[0], want) {
			t.Errorf("RequestsFor(yp1)[0] = %+v, %v, want %+v", got, err, want)
		}
	})
}

// testTimes writes every kind of time field with nanoseconds in a non-UTC
// zone and checks each comes back in UTC, equal to consent.Millis of it.
func testTimes(t *testing.T, newStore func(*testing.T) consent.Store) {
	s, ctx := newStore(t), t.Context()
	p := person("p1")
	o := organisation("o1")
	m := membership("m1", "p1", at(7*time.Hour))
	ended := at(50*day + 111111111)
	l := familyLink("f1", "p1")
	h := holding("h1", "o1", "p1", "health")
	pol := policy("p1", 1)
	r := decided(request("r1", "p1", "pro1", at(3*time.Hour)), "p1")
	x := session("hash1", "p1")
	touched := x.LastSeenAt.Add(time.Hour + 222222222)
	must(t, s.CreatePerson(ctx, p), "CreatePerson")
	must(t, s.CreateOrganisation(ctx, o), "CreateOrganisation")
	must(t, s.CreateMembership(ctx, m), "CreateMembership")
	must(t, s.EndMembership(ctx, "m1", ended), "EndMembership")
	must(t, s.CreateFamilyLink(ctx, l), "CreateFamilyLink")
	must(t, s.CreateHolding(ctx, h), "CreateHolding")
	must(t, s.PutPolicy(ctx, pol), "PutPolicy")
	must(t, s.CreateRequest(ctx, r), "CreateRequest")
	must(t, s.CreateSession(ctx, x), "CreateSession")
	must(t, s.TouchSession(ctx, "hash1", touched), "TouchSession")

	gp, err := s.GetPerson(ctx, "p1")
	must(t, err, "GetPerson")
	go_, err := s.GetOrganisation(ctx, "o1")
	must(t, err, "GetOrganisation")
	gm, err := s.MembershipsOf(ctx, "p1")
	if err != nil || len(gm) != 1 {
		t.Fatalf("MembershipsOf(p1) = %v, %v, want one", gm, err)
	}
	gl, err := s.FamilyOf(ctx, "p1")
	if err != nil || len(gl) != 1 {
		t.Fatalf("FamilyOf(p1) = %v, %v, want one", gl, err)
	}
	gh, err := s.HoldingsOf(ctx, "p1")
	if err != nil || len(gh) != 1 {
		t.Fatalf("HoldingsOf(p1) = %v, %v, want one", gh, err)
	}
	gpol, err := s.GetPolicy(ctx, "p1")
	if err != nil || len(gpol.Grants) == 0 || len(gpol.Blocks) == 0 || len(gpol.Competence) == 0 || len(gpol.Handovers) == 0 || len(gpol.FamilyRules) == 0 {
		t.Fatalf("GetPolicy(p1) = %+v, %v, want grants, blocks, competence, handovers and family rules", gpol, err)
	}
	gr, err := s.GetRequest(ctx, "r1")
	must(t, err, "GetRequest")
	gx, err := s.GetSession(ctx, "hash1")
	must(t, err, "GetSession")

	for _, tc := range []struct {
		field     string
		got, want time.Time
	}{
		{"Person.CreatedAt", gp.CreatedAt, p.CreatedAt},
		{"Person.BirthDate", gp.BirthDate, p.BirthDate},
		{"Organisation.CreatedAt", go_.CreatedAt, o.CreatedAt},
		{"Membership.StartedAt", gm[0].StartedAt, m.StartedAt},
		{"Membership.EndedAt", gm[0].EndedAt, ended},
		{"FamilyLink.CreatedAt", gl[0].CreatedAt, l.CreatedAt},
		{"Holding.Since", gh[0].Since, h.Since},
		{"Grant.CreatedAt", gpol.Grants[0].CreatedAt, pol.Grants[0].CreatedAt},
		{"Grant.Until", gpol.Grants[0].Until, pol.Grants[0].Until},
		{"Grant.StoppedAt", gpol.Grants[0].StoppedAt, pol.Grants[0].StoppedAt},
		{"Block.CreatedAt", gpol.Blocks[0].CreatedAt, pol.Blocks[0].CreatedAt},
		{"Competence.RecordedAt", gpol.Competence[0].RecordedAt, pol.Competence[0].RecordedAt},
		{"Handover.CreatedAt", gpol.Handovers[0].CreatedAt, pol.Handovers[0].CreatedAt},
		{"Handover.AnsweredAt", gpol.Handovers[0].AnsweredAt, pol.Handovers[0].AnsweredAt},
		{"HandoverShare.Until", gpol.Handovers[0].Shares[0].Until, pol.Handovers[0].Shares[0].Until},
		{"FamilyRule.SetAt", gpol.FamilyRules[0].SetAt, pol.FamilyRules[0].SetAt},
		{"AccessRequest.CreatedAt", gr.CreatedAt, r.CreatedAt},
		{"AccessRequest.ExpiresAt", gr.ExpiresAt, r.ExpiresAt},
		{"AccessRequest.DecidedAt", gr.DecidedAt, r.DecidedAt},
		{"Session.CreatedAt", gx.CreatedAt, x.CreatedAt},
		{"Session.LastSeenAt", gx.LastSeenAt, touched},
		{"Session.ExpiresAt", gx.ExpiresAt, x.ExpiresAt},
	} {
		if tc.got.Location() != time.UTC || tc.got != consent.Millis(tc.want) {
			t.Errorf("%s = %v (%v), want %v in UTC", tc.field, tc.got, tc.got.Location(), consent.Millis(tc.want))
		}
	}
}
