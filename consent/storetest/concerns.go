package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"sayso/consent"
)

func concern(id, orgID, youngPersonID string, created time.Time) consent.Concern {
	return consent.Concern{
		ID: id, LogIndex: 41, YoungPersonID: youngPersonID, RaisedBy: "family-" + youngPersonID, OrganisationID: orgID,
		Message: "I never met this person.", CreatedAt: created,
	}
}

func testConcerns(t *testing.T, newStore func(*testing.T) consent.Store) {
	concernID := func(c consent.Concern) string { return c.ID }
	t.Run("CreateList", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		c := concern("c1", "o1", "yp1", at(0))
		must(t, s.CreateConcern(ctx, c), "CreateConcern")
		got, err := s.ConcernsFor(ctx, "o1")
		must(t, err, "ConcernsFor")
		if !same(got, []consent.Concern{c}) {
			t.Errorf("ConcernsFor(o1) = %+v, want [%+v]", got, c)
		}
		got, err = s.ConcernsAbout(ctx, "yp1")
		must(t, err, "ConcernsAbout")
		if !same(got, []consent.Concern{c}) {
			t.Errorf("ConcernsAbout(yp1) = %+v, want [%+v]", got, c)
		}
	})
	t.Run("NewestFirstAndFiltered", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		for _, c := range []consent.Concern{
			concern("c1", "o1", "yp1", at(0)),
			concern("c2", "o2", "yp1", at(time.Hour)),
			concern("c3", "o1", "yp2", at(2*time.Hour)),
			concern("c4", "o1", "yp1", at(3*time.Hour)),
		} {
			must(t, s.CreateConcern(ctx, c), "CreateConcern")
		}
		got, err := s.ConcernsFor(ctx, "o1")
		must(t, err, "ConcernsFor")
		if want := []string{"c4", "c3", "c1"}; !reflect.DeepEqual(ids(got, concernID), want) {
			t.Errorf("ConcernsFor(o1) = %v, want %v", ids(got, concernID), want)
		}
		got, err = s.ConcernsAbout(ctx, "yp1")
		must(t, err, "ConcernsAbout")
		if want := []string{"c4", "c2", "c1"}; !reflect.DeepEqual(ids(got, concernID), want) {
			t.Errorf("ConcernsAbout(yp1) = %v, want %v", ids(got, concernID), want)
		}
	})
	t.Run("ListEmpty", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		got, err := s.ConcernsFor(ctx, "nowhere")
		if err != nil || len(got) != 0 {
			t.Errorf("ConcernsFor(nowhere) = %v, %v, want empty, nil", got, err)
		}
		got, err = s.ConcernsAbout(ctx, "nobody")
		if err != nil || len(got) != 0 {
			t.Errorf("ConcernsAbout(nobody) = %v, %v, want empty, nil", got, err)
		}
	})
	t.Run("CreateDuplicate", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		c := concern("c1", "o1", "yp1", at(0))
		must(t, s.CreateConcern(ctx, c), "CreateConcern")
		other := concern("c1", "o2", "yp2", at(time.Hour))
		wantErr(t, "CreateConcern(same id)", s.CreateConcern(ctx, other), consent.ErrConflict)
		got, err := s.ConcernsFor(ctx, "o1")
		if err != nil || !same(got, []consent.Concern{c}) {
			t.Errorf("ConcernsFor(o1) = %+v, %v, want [%+v] unchanged", got, err, c)
		}
	})
	t.Run("AnswerOnce", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		c := concern("c1", "o1", "yp1", at(0))
		must(t, s.CreateConcern(ctx, c), "CreateConcern")
		must(t, s.AnswerConcern(ctx, "c1", "We checked: it was a home visit.", "dpo-1", at(day)), "AnswerConcern")
		want := c
		want.Answer, want.AnsweredBy, want.AnsweredAt = "We checked: it was a home visit.", "dpo-1", at(day)
		got, err := s.ConcernsAbout(ctx, "yp1")
		if err != nil || !same(got, []consent.Concern{want}) {
			t.Errorf("ConcernsAbout(yp1) after answer = %+v, %v, want [%+v]", got, err, want)
		}
		wantErr(t, "AnswerConcern(again)", s.AnswerConcern(ctx, "c1", "Another answer.", "dpo-2", at(2*day)), consent.ErrConflict)
		got, err = s.ConcernsFor(ctx, "o1")
		if err != nil || !same(got, []consent.Concern{want}) {
			t.Errorf("ConcernsFor(o1) after second answer = %+v, %v, want [%+v] unchanged", got, err, want)
		}
		wantErr(t, "AnswerConcern(unknown)", s.AnswerConcern(ctx, "nope", "Answer.", "dpo-1", at(day)), consent.ErrNotFound)
	})
	t.Run("AnswerRace", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.CreateConcern(ctx, concern("c1", "o1", "yp1", at(0))), "CreateConcern")
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = s.AnswerConcern(ctx, "c1", "Answer.", "dpo", at(day)) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				wantErr(t, "AnswerConcern(loser)", err, consent.ErrConflict)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent AnswerConcern calls succeeded, want 1", won, n)
		}
	})
}

func testDirectory(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("YoungPeopleHeldBy", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		for _, h := range []consent.Holding{
			holding("h1", "o1", "yp2", "address"),
			holding("h2", "o1", "yp1", "health"),
			holding("h3", "o2", "yp3", "address"),
			holding("h4", "o1", "yp2", "education"),
		} {
			must(t, s.CreateHolding(ctx, h), "CreateHolding")
		}
		got, err := s.YoungPeopleHeldBy(ctx, "o1")
		must(t, err, "YoungPeopleHeldBy")
		if want := []string{"yp1", "yp2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("YoungPeopleHeldBy(o1) = %v, want %v", got, want)
		}
		got, err = s.YoungPeopleHeldBy(ctx, "nowhere")
		if err != nil || len(got) != 0 {
			t.Errorf("YoungPeopleHeldBy(nowhere) = %v, %v, want empty, nil", got, err)
		}
	})
	t.Run("MembershipsIn", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		m1 := membership("m1", "p1", at(2*day))
		m2 := membership("m2", "p2", at(0))
		m3 := membership("m3", "p3", at(day))
		m3.OrganisationID = "org-2"
		m4 := membership("m4", "p4", at(day))
		m4.EndedAt = time.Time{}
		for _, m := range []consent.Membership{m1, m2, m3, m4} {
			must(t, s.CreateMembership(ctx, m), "CreateMembership")
		}
		got, err := s.MembershipsIn(ctx, "org-1")
		must(t, err, "MembershipsIn")
		if !same(got, []consent.Membership{m2, m4, m1}) {
			t.Errorf("MembershipsIn(org-1) = %+v, want %+v", got, []consent.Membership{m2, m4, m1})
		}
		got, err = s.MembershipsIn(ctx, "nowhere")
		if err != nil || len(got) != 0 {
			t.Errorf("MembershipsIn(nowhere) = %v, %v, want empty, nil", got, err)
		}
	})
}
