package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"sayso/consent"
)

func testPeople(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("CreateGet", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		p := person("p1")
		must(t, s.CreatePerson(ctx, p), "CreatePerson")
		got, err := s.GetPerson(ctx, "p1")
		must(t, err, "GetPerson")
		if !same(got, p) {
			t.Errorf("GetPerson(p1) = %+v, want %+v", got, p)
		}
		got, err = s.PersonBySubject(ctx, p.Subject)
		must(t, err, "PersonBySubject")
		if !same(got, p) {
			t.Errorf("PersonBySubject(%q) = %+v, want %+v", p.Subject, got, p)
		}
	})
	t.Run("ZeroTimesStayZero", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		p := consent.Person{ID: "p1", Name: "Pat", Subject: "pat"}
		must(t, s.CreatePerson(ctx, p), "CreatePerson")
		got, err := s.GetPerson(ctx, "p1")
		must(t, err, "GetPerson")
		if !got.BirthDate.IsZero() || !got.CreatedAt.IsZero() || got.Operator {
			t.Errorf("GetPerson(p1) = %+v, want zero BirthDate and CreatedAt, not operator", got)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.CreatePerson(ctx, person("p1")), "CreatePerson")
		_, err := s.GetPerson(ctx, "nobody")
		wantErr(t, "GetPerson(nobody)", err, consent.ErrNotFound)
		_, err = s.PersonBySubject(ctx, "subject-nobody")
		wantErr(t, "PersonBySubject(subject-nobody)", err, consent.ErrNotFound)
	})
	for _, tc := range []struct {
		name   string
		second consent.Person
	}{
		{"CreateDuplicateID", consent.Person{ID: "p1", Name: "Other", Subject: "other"}},
		{"CreateDuplicateSubject", consent.Person{ID: "p2", Name: "Other", Subject: "subject-p1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ctx := newStore(t), t.Context()
			p := person("p1")
			must(t, s.CreatePerson(ctx, p), "CreatePerson")
			wantErr(t, "CreatePerson(second)", s.CreatePerson(ctx, tc.second), consent.ErrConflict)
			got, err := s.GetPerson(ctx, "p1")
			if err != nil || !same(got, p) {
				t.Errorf("GetPerson(p1) = %+v, %v, want %+v unchanged", got, err, p)
			}
		})
	}
}

func testOrganisations(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("CreateGet", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		o := organisation("o1")
		must(t, s.CreateOrganisation(ctx, o), "CreateOrganisation")
		got, err := s.GetOrganisation(ctx, "o1")
		must(t, err, "GetOrganisation")
		if !same(got, o) {
			t.Errorf("GetOrganisation(o1) = %+v, want %+v", got, o)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetOrganisation(t.Context(), "nowhere")
		wantErr(t, "GetOrganisation(nowhere)", err, consent.ErrNotFound)
	})
	t.Run("CreateDuplicateID", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		o := organisation("o1")
		must(t, s.CreateOrganisation(ctx, o), "CreateOrganisation")
		wantErr(t, "CreateOrganisation(o1 again)", s.CreateOrganisation(ctx, organisation("o1")), consent.ErrConflict)
	})
}

func testMemberships(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("CreateList", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		m := membership("m1", "p1", at(0))
		must(t, s.CreateMembership(ctx, m), "CreateMembership")
		got, err := s.MembershipsOf(ctx, "p1")
		must(t, err, "MembershipsOf")
		if !same(got, []consent.Membership{m}) {
			t.Errorf("MembershipsOf(p1) = %+v, want [%+v]", got, m)
		}
	})
	t.Run("OldestFirstAndOnlyThatPerson", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		for _, m := range []consent.Membership{
			membership("m-mid", "p1", at(10*day)),
			membership("m-other", "p2", at(5*day)),
			membership("m-new", "p1", at(20*day)),
			membership("m-old", "p1", at(-10*day)),
		} {
			must(t, s.CreateMembership(ctx, m), "CreateMembership")
		}
		got, err := s.MembershipsOf(ctx, "p1")
		must(t, err, "MembershipsOf")
		id := func(m consent.Membership) string { return m.ID }
		if want := []string{"m-old", "m-mid", "m-new"}; !reflect.DeepEqual(ids(got, id), want) {
			t.Errorf("MembershipsOf(p1) = %v, want %v", ids(got, id), want)
		}
	})
	t.Run("ListEmpty", func(t *testing.T) {
		s := newStore(t)
		got, err := s.MembershipsOf(t.Context(), "nobody")
		if err != nil || len(got) != 0 {
			t.Errorf("MembershipsOf(nobody) = %v, %v, want empty, nil", got, err)
		}
	})
	t.Run("CreateDuplicateID", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.CreateMembership(ctx, membership("m1", "p1", at(0))), "CreateMembership")
		wantErr(t, "CreateMembership(m1 again)", s.CreateMembership(ctx, membership("m1", "p2", at(0))), consent.ErrConflict)
	})
	t.Run("End", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		m := membership("m1", "p1", at(0))
		m.EndedAt = time.Time{}
		must(t, s.CreateMembership(ctx, m), "CreateMembership")
		got, err := s.MembershipsOf(ctx, "p1")
		must(t, err, "MembershipsOf")
		if len(got) != 1 || !got[0].EndedAt.IsZero() {
			t.Fatalf("MembershipsOf(p1) = %+v, want one with zero EndedAt", got)
		}
		end := at(40 * day)
		must(t, s.EndMembership(ctx, "m1", end), "EndMembership")
		got, err = s.MembershipsOf(ctx, "p1")
		must(t, err, "MembershipsOf")
		m.EndedAt = end
		if !same(got, []consent.Membership{m}) {
			t.Errorf("MembershipsOf(p1) after EndMembership = %+v, want [%+v]", got, m)
		}
	})
	t.Run("EndUnknown", func(t *testing.T) {
		s := newStore(t)
		wantErr(t, "EndMembership(nothing)", s.EndMembership(t.Context(), "nothing", at(0)), consent.ErrNotFound)
	})
}

func testFamily(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("CreateList", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		l := familyLink("f1", "yp1")
		must(t, s.CreateFamilyLink(ctx, l), "CreateFamilyLink")
		got, err := s.FamilyOf(ctx, "yp1")
		must(t, err, "FamilyOf")
		if !same(got, []consent.FamilyLink{l}) {
			t.Errorf("FamilyOf(yp1) = %+v, want [%+v]", got, l)
		}
		got, err = s.ChildrenOf(ctx, "f1")
		must(t, err, "ChildrenOf")
		if !same(got, []consent.FamilyLink{l}) {
			t.Errorf("ChildrenOf(f1) = %+v, want [%+v]", got, l)
		}
	})
	t.Run("CreateDuplicatePair", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		l := familyLink("f1", "yp1")
		must(t, s.CreateFamilyLink(ctx, l), "CreateFamilyLink")
		again := l
		again.Relationship, again.CanAct = "uncle", false
		wantErr(t, "CreateFamilyLink(f1, yp1 again)", s.CreateFamilyLink(ctx, again), consent.ErrConflict)
		got, err := s.FamilyOf(ctx, "yp1")
		if err != nil || !same(got, []consent.FamilyLink{l}) {
			t.Errorf("FamilyOf(yp1) = %+v, %v, want [%+v] unchanged", got, err, l)
		}
	})
	t.Run("OnlyThatPerson", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		// f1 is family to two young people; yp1 has two family members.
		for _, l := range []consent.FamilyLink{familyLink("f1", "yp1"), familyLink("f1", "yp2"), familyLink("f2", "yp1"), familyLink("f3", "yp3")} {
			must(t, s.CreateFamilyLink(ctx, l), "CreateFamilyLink")
		}
		family, err := s.FamilyOf(ctx, "yp1")
		must(t, err, "FamilyOf")
		if got := ids(family, func(l consent.FamilyLink) string { return l.FamilyID + ">" + l.YoungPersonID }); !sameSet(got, []string{"f1>yp1", "f2>yp1"}) {
			t.Errorf("FamilyOf(yp1) = %v, want f1>yp1 and f2>yp1", got)
		}
		children, err := s.ChildrenOf(ctx, "f1")
		must(t, err, "ChildrenOf")
		if got := ids(children, func(l consent.FamilyLink) string { return l.FamilyID + ">" + l.YoungPersonID }); !sameSet(got, []string{"f1>yp1", "f1>yp2"}) {
			t.Errorf("ChildrenOf(f1) = %v, want f1>yp1 and f1>yp2", got)
		}
	})
	t.Run("ListEmpty", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		if got, err := s.FamilyOf(ctx, "nobody"); err != nil || len(got) != 0 {
			t.Errorf("FamilyOf(nobody) = %v, %v, want empty, nil", got, err)
		}
		if got, err := s.ChildrenOf(ctx, "nobody"); err != nil || len(got) != 0 {
			t.Errorf("ChildrenOf(nobody) = %v, %v, want empty, nil", got, err)
		}
	})
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func testHoldings(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("CreateList", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		h := holding("h1", "o1", "yp1", "education")
		must(t, s.CreateHolding(ctx, h), "CreateHolding")
		got, err := s.HoldingsOf(ctx, "yp1")
		must(t, err, "HoldingsOf")
		if !same(got, []consent.Holding{h}) {
			t.Errorf("HoldingsOf(yp1) = %+v, want [%+v]", got, h)
		}
	})
	t.Run("ByOrganisationThenCategory", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		for _, h := range []consent.Holding{
			holding("h1", "o2", "yp1", "address"),
			holding("h2", "o1", "yp1", "health"),
			holding("h3", "o1", "yp2", "address"),
			holding("h4", "o1", "yp1", "education"),
			holding("h5", "o2", "yp1", "social-care"),
		} {
			must(t, s.CreateHolding(ctx, h), "CreateHolding")
		}
		got, err := s.HoldingsOf(ctx, "yp1")
		must(t, err, "HoldingsOf")
		id := func(h consent.Holding) string { return h.ID }
		if want := []string{"h4", "h2", "h1", "h5"}; !reflect.DeepEqual(ids(got, id), want) {
			t.Errorf("HoldingsOf(yp1) = %v, want %v", ids(got, id), want)
		}
	})
	t.Run("ListEmpty", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.HoldingsOf(t.Context(), "nobody"); err != nil || len(got) != 0 {
			t.Errorf("HoldingsOf(nobody) = %v, %v, want empty, nil", got, err)
		}
	})
	t.Run("CreateDuplicateID", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.CreateHolding(ctx, holding("h1", "o1", "yp1", "health")), "CreateHolding")
		wantErr(t, "CreateHolding(h1 again)", s.CreateHolding(ctx, holding("h1", "o2", "yp2", "address")), consent.ErrConflict)
	})
}

func testSessions(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("CreateGet", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		x := session("hash1", "p1")
		must(t, s.CreateSession(ctx, x), "CreateSession")
		got, err := s.GetSession(ctx, "hash1")
		must(t, err, "GetSession")
		if !same(got, x) {
			t.Errorf("GetSession(hash1) = %+v, want %+v", got, x)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetSession(t.Context(), "nohash")
		wantErr(t, "GetSession(nohash)", err, consent.ErrNotFound)
	})
	t.Run("CreateDuplicateHash", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.CreateSession(ctx, session("hash1", "p1")), "CreateSession")
		wantErr(t, "CreateSession(hash1 again)", s.CreateSession(ctx, session("hash1", "p2")), consent.ErrConflict)
	})
	t.Run("Touch", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		x := session("hash1", "p1")
		must(t, s.CreateSession(ctx, x), "CreateSession")
		x.LastSeenAt = x.LastSeenAt.Add(time.Hour + 123456789)
		must(t, s.TouchSession(ctx, "hash1", x.LastSeenAt), "TouchSession")
		got, err := s.GetSession(ctx, "hash1")
		must(t, err, "GetSession")
		if !same(got, x) {
			t.Errorf("GetSession(hash1) after TouchSession = %+v, want %+v", got, x)
		}
	})
	t.Run("TouchUnknown", func(t *testing.T) {
		s := newStore(t)
		wantErr(t, "TouchSession(nohash)", s.TouchSession(t.Context(), "nohash", time.Now()), consent.ErrNotFound)
	})
	t.Run("Delete", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.CreateSession(ctx, session("hash1", "p1")), "CreateSession")
		must(t, s.CreateSession(ctx, session("hash2", "p1")), "CreateSession")
		must(t, s.DeleteSession(ctx, "hash1"), "DeleteSession")
		_, err := s.GetSession(ctx, "hash1")
		wantErr(t, "GetSession(hash1) after DeleteSession", err, consent.ErrNotFound)
		_, err = s.GetSession(ctx, "hash2")
		wantErr(t, "GetSession(hash2)", err, nil)
	})
	t.Run("DeleteMissing", func(t *testing.T) {
		s := newStore(t)
		wantErr(t, "DeleteSession(nohash)", s.DeleteSession(t.Context(), "nohash"), nil)
	})
}

func testUseOnce(t *testing.T, newStore func(*testing.T) consent.Store) {
	later := time.Now().Add(time.Hour)
	t.Run("SecondUseConflicts", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		wantErr(t, "UseOnce(k) first", s.UseOnce(ctx, "k", later), nil)
		wantErr(t, "UseOnce(k) second", s.UseOnce(ctx, "k", later), consent.ErrConflict)
		wantErr(t, "UseOnce(other)", s.UseOnce(ctx, "other", later), nil)
	})
	// A key whose expiry has passed is forgotten: it may be used again, and
	// then holds until its new expiry.
	t.Run("ExpiredKeyReusable", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.UseOnce(ctx, "k", time.Now().Add(-time.Minute)), "UseOnce(k) expired")
		wantErr(t, "UseOnce(k) after expiry", s.UseOnce(ctx, "k", later), nil)
		wantErr(t, "UseOnce(k) again", s.UseOnce(ctx, "k", later), consent.ErrConflict)
	})
	t.Run("ConcurrentExactlyOnce", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.UseOnce(ctx, "k", later) })
		}
		wg.Wait()
		if ok, conflicts := count(errs); ok != 1 || conflicts != n-1 {
			t.Errorf("%d concurrent UseOnce(k): %d succeeded, %d conflicted (errors %v), want 1 and %d", n, ok, conflicts, errs, n-1)
		}
	})
}

// count tallies successes and conflicts.
func count(errs []error) (ok, conflicts int) {
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, consent.ErrConflict):
			conflicts++
		}
	}
	return ok, conflicts
}

func testPing(t *testing.T, newStore func(*testing.T) consent.Store) {
	s := newStore(t)
	wantErr(t, "Ping", s.Ping(t.Context()), nil)
}
