package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"sayso/consent"
)

// wrappedKey is yp's key wrapped by kek; its bytes name both, so a key
// returned for the wrong person or KEK shows up.
func wrappedKey(yp string, kek uint32) consent.WrappedKey {
	return consent.WrappedKey{
		YoungPersonID: yp, Wrapped: fmt.Appendf(nil, "\x00key of %s under %d\xff", yp, kek), KEKID: kek, CreatedAt: at(3 * day),
	}
}

func testKeys(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("PutGet", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		// KEK ids use all 32 bits.
		for _, k := range []consent.WrappedKey{wrappedKey("yp1", 1), wrappedKey("yp2", 1<<32-1), wrappedKey("yp3", 1<<31)} {
			must(t, s.PutKey(ctx, k), "PutKey("+k.YoungPersonID+")")
			got, err := s.GetKey(ctx, k.YoungPersonID)
			if err != nil || !same(got, k) {
				t.Errorf("GetKey(%s) = %+v, %v, want %+v", k.YoungPersonID, got, err, k)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("GetKey(%s).CreatedAt = %v, want it in UTC", k.YoungPersonID, got.CreatedAt)
			}
		}
	})
	t.Run("ZeroCreatedAt", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		k := wrappedKey("yp1", 7)
		k.CreatedAt = time.Time{}
		must(t, s.PutKey(ctx, k), "PutKey")
		if got, err := s.GetKey(ctx, "yp1"); err != nil || !got.CreatedAt.IsZero() {
			t.Errorf("GetKey(yp1) = %+v, %v, want a zero CreatedAt", got, err)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.PutKey(ctx, wrappedKey("yp1", 1)), "PutKey")
		_, err := s.GetKey(ctx, "nobody")
		wantErr(t, "GetKey(nobody)", err, consent.ErrNotFound)
	})
	t.Run("PutTwiceConflicts", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		k := wrappedKey("yp1", 1)
		must(t, s.PutKey(ctx, k), "PutKey")
		wantErr(t, "PutKey(yp1 again)", s.PutKey(ctx, wrappedKey("yp1", 2)), consent.ErrConflict)
		if got, err := s.GetKey(ctx, "yp1"); err != nil || !same(got, k) {
			t.Errorf("GetKey(yp1) = %+v, %v, want %+v unchanged", got, err, k)
		}
	})
	t.Run("Replace", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.PutKey(ctx, wrappedKey("yp1", 1)), "PutKey")
		must(t, s.PutKey(ctx, wrappedKey("yp2", 1)), "PutKey")
		k := wrappedKey("yp1", 2)
		must(t, s.ReplaceKey(ctx, k, 1), "ReplaceKey(yp1, 1 → 2)")
		if got, err := s.GetKey(ctx, "yp1"); err != nil || !same(got, k) {
			t.Errorf("GetKey(yp1) after ReplaceKey = %+v, %v, want %+v", got, err, k)
		}
		if got, err := s.GetKey(ctx, "yp2"); err != nil || !same(got, wrappedKey("yp2", 1)) {
			t.Errorf("GetKey(yp2) = %+v, %v, want it untouched", got, err)
		}
	})
	t.Run("ReplaceFromWrongKEKConflicts", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		k := wrappedKey("yp1", 2)
		must(t, s.PutKey(ctx, k), "PutKey")
		wantErr(t, "ReplaceKey(yp1, from 1)", s.ReplaceKey(ctx, wrappedKey("yp1", 3), 1), consent.ErrConflict)
		if got, err := s.GetKey(ctx, "yp1"); err != nil || !same(got, k) {
			t.Errorf("GetKey(yp1) = %+v, %v, want %+v unchanged", got, err, k)
		}
	})
	t.Run("ReplaceMissing", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		wantErr(t, "ReplaceKey(nobody)", s.ReplaceKey(ctx, wrappedKey("nobody", 2), 1), consent.ErrNotFound)
		_, err := s.GetKey(ctx, "nobody")
		wantErr(t, "GetKey(nobody) after ReplaceKey", err, consent.ErrNotFound)
	})
	t.Run("ConcurrentReplaceOneWins", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.PutKey(ctx, wrappedKey("yp1", 1)), "PutKey")
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.ReplaceKey(ctx, wrappedKey("yp1", uint32(10+i)), 1) })
		}
		wg.Wait()
		ok, conflicts := count(errs)
		if ok != 1 || conflicts != n-1 {
			t.Fatalf("%d concurrent ReplaceKey: %d succeeded, %d conflicted (errors %v), want 1 and %d", n, ok, conflicts, errs, n-1)
		}
		winner := uint32(10 + slices.IndexFunc(errs, func(err error) bool { return err == nil }))
		if got, err := s.GetKey(ctx, "yp1"); err != nil || !same(got, wrappedKey("yp1", winner)) {
			t.Errorf("GetKey(yp1) = %+v, %v, want the key wrapped by %d (the one that succeeded)", got, err, winner)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		must(t, s.PutKey(ctx, wrappedKey("yp1", 1)), "PutKey")
		must(t, s.PutKey(ctx, wrappedKey("yp2", 1)), "PutKey")
		must(t, s.DeleteKey(ctx, "yp1"), "DeleteKey(yp1)")
		_, err := s.GetKey(ctx, "yp1")
		wantErr(t, "GetKey(yp1) after DeleteKey", err, consent.ErrNotFound)
		wantErr(t, "DeleteKey(yp1) again", s.DeleteKey(ctx, "yp1"), nil)
		wantErr(t, "DeleteKey(nobody)", s.DeleteKey(ctx, "nobody"), nil)
		if _, err := s.GetKey(ctx, "yp2"); err != nil {
			t.Errorf("GetKey(yp2) = %v, want it untouched", err)
		}
		// A deleted key is gone for good: a rewrap cannot bring it back.
		wantErr(t, "ReplaceKey(yp1) after DeleteKey", s.ReplaceKey(ctx, wrappedKey("yp1", 2), 1), consent.ErrNotFound)
		// A new key may be stored after an erasure.
		wantErr(t, "PutKey(yp1) after DeleteKey", s.PutKey(ctx, wrappedKey("yp1", 3)), nil)
	})
	t.Run("KeysNotWrappedBy", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		// Stored out of order; listed by young person id.
		keks := map[string]uint32{"yp5": 2, "yp1": 1, "yp3": 1, "yp2": 2, "yp4": 3, "yp6": 1 << 31}
		for yp, kek := range keks {
			must(t, s.PutKey(ctx, wrappedKey(yp, kek)), "PutKey("+yp+")")
		}
		for _, tc := range []struct {
			kek   uint32
			after string
			limit int
			want  []string
		}{
			{2, "", 100, []string{"yp1", "yp3", "yp4", "yp6"}},
			{2, "yp1", 100, []string{"yp3", "yp4", "yp6"}}, // after is exclusive
			{2, "yp2", 100, []string{"yp3", "yp4", "yp6"}},
			{2, "", 2, []string{"yp1", "yp3"}},
			{2, "yp3", 1, []string{"yp4"}},
			{2, "yp6", 100, []string{}},
			{2, "yp9", 100, []string{}},
			{1, "", 100, []string{"yp2", "yp4", "yp5", "yp6"}},
			{1 << 31, "", 100, []string{"yp1", "yp2", "yp3", "yp4", "yp5"}},
			{99, "", 100, []string{"yp1", "yp2", "yp3", "yp4", "yp5", "yp6"}},
		} {
			got, err := s.KeysNotWrappedBy(ctx, tc.kek, tc.after, tc.limit)
			if gotIDs := ids(got, func(k consent.WrappedKey) string { return k.YoungPersonID }); err != nil || !slices.Equal(gotIDs, tc.want) {
				t.Errorf("KeysNotWrappedBy(%d, after %q, limit %d) = %v, %v, want %v", tc.kek, tc.after, tc.limit, gotIDs, err, tc.want)
			}
		}
		// The listed keys are whole.
		got, err := s.KeysNotWrappedBy(ctx, 2, "", 1)
		if err != nil || !same(got, []consent.WrappedKey{wrappedKey("yp1", 1)}) {
			t.Errorf("KeysNotWrappedBy(2, \"\", 1) = %+v, %v, want [%+v]", got, err, wrappedKey("yp1", 1))
		}
		// Paging the way a rotation does visits every key once, and a key
		// rewrapped meanwhile drops out.
		var visited []string
		after := ""
		for range 10 {
			page, err := s.KeysNotWrappedBy(ctx, 9, after, 2)
			must(t, err, "KeysNotWrappedBy")
			if len(page) == 0 {
				break
			}
			for _, k := range page {
				visited = append(visited, k.YoungPersonID)
				must(t, s.ReplaceKey(ctx, wrappedKey(k.YoungPersonID, 9), k.KEKID), "ReplaceKey("+k.YoungPersonID+")")
			}
			after = page[len(page)-1].YoungPersonID
		}
		if want := []string{"yp1", "yp2", "yp3", "yp4", "yp5", "yp6"}; !slices.Equal(visited, want) {
			t.Errorf("paging KeysNotWrappedBy(9) visited %v, want %v", visited, want)
		}
		if left, err := s.KeysNotWrappedBy(ctx, 9, "", 100); err != nil || len(left) != 0 {
			t.Errorf("KeysNotWrappedBy(9) after the rotation = %v, %v, want none", ids(left, func(k consent.WrappedKey) string { return k.YoungPersonID }), err)
		}
	})
}
