package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"sayso/consent"
)

// logEntry is entry i about yp, disclosed by an actor of org at when, with
// every field set; its bytes name it, so a mixed-up entry shows up.
func logEntry(i int64, yp, org string, when time.Time) consent.LogEntry {
	return consent.LogEntry{
		Index: i, Data: fmt.Appendf(nil, "entry %d about %s for %s\n\x00\xff", i, yp, org), At: when,
		YoungPersonID: yp, ActorID: "actor-" + org, OrganisationID: org, Category: "health", Purpose: "health-care",
		LawfulBasis: consent.BasisConsent, Outcome: consent.OutcomeDisclosed,
	}
}

// fakeHash is a value that stands for the tree hash at storage index x; salt
// tells apart two writers of the same index.
func fakeHash(x int64, salt string) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(x))
	return sha256.Sum256(append([]byte(salt), b[:]...))
}

// hashesFor returns the tree hashes that entries [first, first+n) add, as
// golang.org/x/mod/sumdb/tlog numbers them, with made-up values.
func hashesFor(first, n int64, salt string) []consent.StoredHash {
	var out []consent.StoredHash
	for x := tlog.StoredHashCount(first); x < tlog.StoredHashCount(first+n); x++ {
		out = append(out, consent.StoredHash{Index: x, Hash: fakeHash(x, salt)})
	}
	return out
}

// appendBatch appends entries (consecutive, from entries[0].Index) as one
// batch with their made-up hashes.
func appendBatch(t *testing.T, s consent.LogStore, entries ...consent.LogEntry) {
	t.Helper()
	first := entries[0].Index
	must(t, s.AppendLog(t.Context(), first, entries, hashesFor(first, int64(len(entries)), "")), fmt.Sprintf("AppendLog(first %d)", first))
}

// entryIndexes lists the indexes of entries, for messages and order checks.
func entryIndexes(es []consent.LogEntry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Index)
	}
	return out
}

func testLog(t *testing.T, newStore func(*testing.T) consent.Store) {
	t.Run("AppendAtSize", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		if n, err := s.LogSize(ctx); err != nil || n != 0 {
			t.Fatalf("LogSize of an empty log = %d, %v, want 0, nil", n, err)
		}
		appendBatch(t, s, logEntry(0, "yp1", "o1", at(0)), logEntry(1, "yp1", "o1", at(1)), logEntry(2, "yp2", "o1", at(2)))
		if n, err := s.LogSize(ctx); err != nil || n != 3 {
			t.Fatalf("LogSize after 3 entries = %d, %v, want 3, nil", n, err)
		}
		appendBatch(t, s, logEntry(3, "yp1", "o2", at(3)))
		appendBatch(t, s, logEntry(4, "yp1", "o2", at(4)), logEntry(5, "yp3", "o2", at(5)))
		if n, err := s.LogSize(ctx); err != nil || n != 6 {
			t.Errorf("LogSize after 6 entries = %d, %v, want 6, nil", n, err)
		}
	})
	t.Run("AppendEmptyBatch", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		appendBatch(t, s, logEntry(0, "yp1", "o1", at(0)))
		wantErr(t, "AppendLog(first 1, no entries)", s.AppendLog(ctx, 1, nil, nil), nil)
		wantErr(t, "AppendLog(first 0, no entries)", s.AppendLog(ctx, 0, nil, nil), consent.ErrConflict)
		if n, err := s.LogSize(ctx); err != nil || n != 1 {
			t.Errorf("LogSize = %d, %v, want 1, nil", n, err)
		}
	})
	t.Run("StaleFirstConflicts", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			stored int64 // entries already in the log
			first  int64
		}{
			{"EmptyLogFirst1", 0, 1},
			{"First0", 3, 0},
			{"OneBehind", 3, 2},
			{"Gap", 3, 4},
			{"FarAhead", 3, 100},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, ctx := newStore(t), t.Context()
				var before []consent.LogEntry
				for i := range tc.stored {
					before = append(before, logEntry(i, "yp1", "o1", at(time.Duration(i)*time.Minute)))
				}
				if len(before) > 0 {
					appendBatch(t, s, before...)
				}
				stale := []consent.LogEntry{logEntry(tc.first, "yp9", "o9", at(day)), logEntry(tc.first+1, "yp9", "o9", at(day))}
				err := s.AppendLog(ctx, tc.first, stale, hashesFor(tc.first, 2, "stale"))
				wantErr(t, fmt.Sprintf("AppendLog(first %d) on a log of %d", tc.first, tc.stored), err, consent.ErrConflict)
				if n, err := s.LogSize(ctx); err != nil || n != tc.stored {
					t.Errorf("LogSize after the refused append = %d, %v, want %d unchanged", n, err, tc.stored)
				}
				got, err := s.LogEntries(ctx, 0, tc.first+10)
				if err != nil || !same(got, before) {
					t.Errorf("LogEntries(0, %d) after the refused append = %v, %v, want %v unchanged", tc.first+10, entryIndexes(got), err, entryIndexes(before))
				}
				if got, err := s.DisclosuresAbout(ctx, "yp9", -1, 10); err != nil || len(got) != 0 {
					t.Errorf("DisclosuresAbout(yp9) after the refused append = %v, %v, want none", entryIndexes(got), err)
				}
				// The hashes of the stored entries are theirs, and the refused
				// batch's own hashes were not kept.
				var kept, refused []int64
				for _, h := range hashesFor(0, tc.stored, "") {
					kept = append(kept, h.Index)
				}
				for _, h := range hashesFor(tc.first, 2, "stale") {
					if h.Index >= tlog.StoredHashCount(tc.stored) {
						refused = append(refused, h.Index)
					}
				}
				if len(kept) > 0 {
					hs, err := s.LogHashes(ctx, kept)
					must(t, err, "LogHashes(stored entries)")
					if len(hs) != len(kept) {
						t.Fatalf("LogHashes(%v) returned %d hashes, want %d", kept, len(hs), len(kept))
					}
					for i, x := range kept {
						if hs[i] != fakeHash(x, "") {
							t.Errorf("hash %d changed by the refused append", x)
						}
					}
				}
				if len(refused) > 0 {
					_, err := s.LogHashes(ctx, refused)
					wantErr(t, "LogHashes(the refused batch's)", err, consent.ErrNotFound)
				}
			})
		}
	})
	t.Run("EntriesRoundTrip", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		var all []consent.LogEntry
		for i := range int64(7) {
			e := logEntry(i, fmt.Sprintf("yp%d", i%2), fmt.Sprintf("o%d", i%3), at(time.Duration(i)*time.Hour+time.Duration(i)*123456789))
			e.LawfulBasis = []consent.LawfulBasis{consent.BasisConsent, consent.BasisPublicTask, ""}[i%3]
			e.Outcome = []consent.Outcome{consent.OutcomeDisclosed, consent.OutcomeRefused, consent.OutcomePermitted, consent.OutcomeDenied}[i%4]
			all = append(all, e)
		}
		appendBatch(t, s, all[:4]...)
		appendBatch(t, s, all[4:]...)
		for _, tc := range []struct{ from, to int64 }{{0, 7}, {0, 100}, {1, 3}, {3, 4}, {4, 7}, {6, 7}, {3, 3}, {5, 2}, {7, 10}, {50, 60}} {
			got, err := s.LogEntries(ctx, tc.from, tc.to)
			want := all[min(tc.from, 7):min(max(tc.to, tc.from), 7)]
			if err != nil || !same(got, want) {
				t.Errorf("LogEntries(%d, %d) = %v, %v, want %v", tc.from, tc.to, entryIndexes(got), err, entryIndexes(want))
			}
		}
		// The bytes are kept exactly, whatever they hold.
		got, err := s.LogEntries(ctx, 0, 1)
		if err != nil || len(got) != 1 || !bytes.Equal(got[0].Data, all[0].Data) {
			t.Errorf("LogEntries(0, 1) = %+v, %v, want the exact bytes %q", got, err, all[0].Data)
		}
	})
	t.Run("Times", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		when := time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone)
		appendBatch(t, s, logEntry(0, "yp1", "o1", when))
		for name, list := range map[string]func() ([]consent.LogEntry, error){
			"LogEntries":       func() ([]consent.LogEntry, error) { return s.LogEntries(ctx, 0, 1) },
			"DisclosuresAbout": func() ([]consent.LogEntry, error) { return s.DisclosuresAbout(ctx, "yp1", -1, 1) },
			"DisclosuresBy": func() ([]consent.LogEntry, error) {
				return s.DisclosuresBy(ctx, "o1", consent.DisclosureFilter{}, -1, 1)
			},
		} {
			got, err := list()
			if err != nil || len(got) != 1 {
				t.Errorf("%s = %v, %v, want one entry", name, entryIndexes(got), err)
				continue
			}
			if got[0].At.Location() != time.UTC || got[0].At != consent.Millis(when) {
				t.Errorf("%s: At = %v (%v), want %v in UTC", name, got[0].At, got[0].At.Location(), consent.Millis(when))
			}
		}
	})
	t.Run("Hashes", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		appendBatch(t, s, logEntry(0, "yp1", "o1", at(0)), logEntry(1, "yp1", "o1", at(0)), logEntry(2, "yp1", "o1", at(0)))
		appendBatch(t, s, logEntry(3, "yp1", "o1", at(0)), logEntry(4, "yp1", "o1", at(0)))
		n := tlog.StoredHashCount(5)
		var every []int64
		for x := range n {
			every = append(every, x)
		}
		for _, ask := range [][]int64{
			every,
			{n - 1, 0, 3},
			{2, 2, 7, 2, 0, 7},
			{5},
			{},
		} {
			got, err := s.LogHashes(ctx, ask)
			if err != nil || len(got) != len(ask) {
				t.Errorf("LogHashes(%v) = %d hashes, %v, want %d, nil", ask, len(got), err, len(ask))
				continue
			}
			for i, x := range ask {
				if got[i] != fakeHash(x, "") {
					t.Errorf("LogHashes(%v)[%d] = %x, want the hash stored at %d", ask, i, got[i][:4], x)
				}
			}
		}
		for _, ask := range [][]int64{{n}, {0, n, 1}, {n + 5}, {3, 1 << 40}} {
			_, err := s.LogHashes(ctx, ask)
			wantErr(t, fmt.Sprintf("LogHashes(%v) with %d stored", ask, n), err, consent.ErrNotFound)
		}
	})
	t.Run("Checkpoints", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		_, err := s.Checkpoint(ctx, 5)
		wantErr(t, "Checkpoint(5) with none stored", err, consent.ErrNotFound)
		_, _, err = s.LatestCheckpoint(ctx)
		wantErr(t, "LatestCheckpoint with none stored", err, consent.ErrNotFound)
		if sizes, err := s.CheckpointSizes(ctx); err != nil || sizes == nil || len(sizes) != 0 {
			t.Errorf("CheckpointSizes with none stored = %#v, %v, want []int64{}, nil", sizes, err)
		}

		must(t, s.PutCheckpoint(ctx, 5, []byte("first for 5")), "PutCheckpoint(5)")
		wantErr(t, "PutCheckpoint(5) again", s.PutCheckpoint(ctx, 5, []byte("second for 5")), nil)
		if got, err := s.Checkpoint(ctx, 5); err != nil || string(got) != "first for 5" {
			t.Errorf("Checkpoint(5) = %q, %v, want the first one stored", got, err)
		}
		for _, n := range []int64{9, 2, 0, 1 << 40} {
			must(t, s.PutCheckpoint(ctx, n, fmt.Appendf(nil, "checkpoint %d\n\x00", n)), fmt.Sprintf("PutCheckpoint(%d)", n))
		}
		if got, err := s.Checkpoint(ctx, 0); err != nil || string(got) != "checkpoint 0\n\x00" {
			t.Errorf("Checkpoint(0) = %q, %v, want the one stored", got, err)
		}
		_, err = s.Checkpoint(ctx, 3)
		wantErr(t, "Checkpoint(3)", err, consent.ErrNotFound)
		if size, got, err := s.LatestCheckpoint(ctx); err != nil || size != 1<<40 || string(got) != fmt.Sprintf("checkpoint %d\n\x00", int64(1<<40)) {
			t.Errorf("LatestCheckpoint = %d, %q, %v, want %d and its checkpoint", size, got, err, int64(1<<40))
		}
		if sizes, err := s.CheckpointSizes(ctx); err != nil || !slices.Equal(sizes, []int64{0, 2, 5, 9, 1 << 40}) {
			t.Errorf("CheckpointSizes = %v, %v, want [0 2 5 9 %d]", sizes, err, int64(1<<40))
		}
	})
	t.Run("DisclosuresAbout", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		// yp1 at 0, 2, 3, 5, 6; yp2 at 1, 4.
		yps := []string{"yp1", "yp2", "yp1", "yp1", "yp2", "yp1", "yp1"}
		var all []consent.LogEntry
		for i, yp := range yps {
			all = append(all, logEntry(int64(i), yp, "o1", at(time.Duration(i)*time.Minute)))
		}
		appendBatch(t, s, all[:3]...)
		appendBatch(t, s, all[3:]...)
		// Refusals are for the DPO, not the feed.
		for i, o := range []consent.Outcome{consent.OutcomeRefused, consent.OutcomeDenied} {
			n := len(all) + i
			e := logEntry(int64(n), "yp1", "o1", at(time.Duration(n)*time.Minute))
			e.Outcome = o
			appendBatch(t, s, e)
		}
		for _, tc := range []struct {
			yp     string
			before int64
			limit  int
			want   []int64
			whole  bool
		}{
			{"yp1", -1, 100, []int64{6, 5, 3, 2, 0}, true},
			{"yp2", -1, 100, []int64{4, 1}, false},
			{"yp1", 5, 100, []int64{3, 2, 0}, false}, // before is exclusive
			{"yp1", 6, 2, []int64{5, 3}, false},
			{"yp1", -1, 1, []int64{6}, false},
			{"yp1", 1, 100, []int64{0}, false},
			{"yp1", 0, 100, []int64{}, false},
			{"yp1", 1000, 3, []int64{6, 5, 3}, false}, // 7 and 8 were refused
			{"nobody", -1, 100, []int64{}, false},
		} {
			got, err := s.DisclosuresAbout(ctx, tc.yp, tc.before, tc.limit)
			if err != nil || !slices.Equal(entryIndexes(got), tc.want) {
				t.Errorf("DisclosuresAbout(%s, before %d, limit %d) = %v, %v, want %v", tc.yp, tc.before, tc.limit, entryIndexes(got), err, tc.want)
				continue
			}
			if tc.whole {
				want := []consent.LogEntry{all[6], all[5], all[3], all[2], all[0]}
				if !same(got, want) {
					t.Errorf("DisclosuresAbout(%s) = %+v, want the whole entries %+v", tc.yp, got, want)
				}
			}
		}
	})
	t.Run("DisclosuresBy", func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		type row struct {
			org, actor, yp, category, purpose string
			basis                             consent.LawfulBasis
			outcome                           consent.Outcome
			when                              time.Duration
		}
		rows := []row{
			0: {"o1", "pro1", "yp1", "health", "health-care", consent.BasisConsent, consent.OutcomeDisclosed, 0},
			1: {"o2", "pro1", "yp1", "health", "health-care", consent.BasisConsent, consent.OutcomeDisclosed, time.Hour},
			2: {"o1", "pro2", "yp2", "education", "education-support", consent.BasisPublicTask, consent.OutcomeRefused, 2 * time.Hour},
			3: {"o1", "pro1", "yp2", "health", "education-support", consent.BasisConsent, consent.OutcomePermitted, 3 * time.Hour},
			4: {"o1", "pro2", "yp1", "address", "health-care", consent.BasisVitalInterests, consent.OutcomeDenied, 4 * time.Hour},
			5: {"o1", "pro1", "yp1", "health", "health-care", consent.BasisConsent, consent.OutcomeDisclosed, 5 * time.Hour},
			6: {"o3", "pro3", "yp3", "health", "health-care", consent.BasisConsent, consent.OutcomeDisclosed, 6 * time.Hour},
		}
		var all []consent.LogEntry
		for i, r := range rows {
			e := logEntry(int64(i), r.yp, r.org, at(r.when+123456789))
			e.ActorID, e.Category, e.Purpose, e.LawfulBasis, e.Outcome = r.actor, r.category, r.purpose, r.basis, r.outcome
			all = append(all, e)
		}
		appendBatch(t, s, all[:5]...)
		appendBatch(t, s, all[5:]...)
		// The o1 entries are 0, 2, 3, 4, 5, at hours 0, 2, 3, 4, 5 (plus a fraction).
		from, to := at(2*time.Hour+123456789), at(4*time.Hour+123456789)
		for _, tc := range []struct {
			name  string
			org   string
			f     consent.DisclosureFilter
			after int64
			limit int
			want  []int64
		}{
			{"All", "o1", consent.DisclosureFilter{}, -1, 100, []int64{0, 2, 3, 4, 5}},
			{"OtherOrganisation", "o2", consent.DisclosureFilter{}, -1, 100, []int64{1}},
			{"UnknownOrganisation", "nowhere", consent.DisclosureFilter{}, -1, 100, []int64{}},
			{"AfterIsExclusive", "o1", consent.DisclosureFilter{}, 2, 100, []int64{3, 4, 5}},
			{"AfterLast", "o1", consent.DisclosureFilter{}, 5, 100, []int64{}},
			{"Limit", "o1", consent.DisclosureFilter{}, -1, 2, []int64{0, 2}},
			{"AfterAndLimit", "o1", consent.DisclosureFilter{}, 0, 2, []int64{2, 3}},
			{"Actor", "o1", consent.DisclosureFilter{ActorID: "pro1"}, -1, 100, []int64{0, 3, 5}},
			{"YoungPerson", "o1", consent.DisclosureFilter{YoungPersonID: "yp2"}, -1, 100, []int64{2, 3}},
			{"Category", "o1", consent.DisclosureFilter{Category: "health"}, -1, 100, []int64{0, 3, 5}},
			{"Purpose", "o1", consent.DisclosureFilter{Purpose: "education-support"}, -1, 100, []int64{2, 3}},
			{"LawfulBasis", "o1", consent.DisclosureFilter{LawfulBasis: consent.BasisConsent}, -1, 100, []int64{0, 3, 5}},
			{"Outcome", "o1", consent.DisclosureFilter{Outcome: consent.OutcomeRefused}, -1, 100, []int64{2}},
			{"FromIsInclusive", "o1", consent.DisclosureFilter{From: from}, -1, 100, []int64{2, 3, 4, 5}},
			{"ToIsExclusive", "o1", consent.DisclosureFilter{To: to}, -1, 100, []int64{0, 2, 3}},
			{"FromTo", "o1", consent.DisclosureFilter{From: from, To: to}, -1, 100, []int64{2, 3}},
			{"FromToInOtherZone", "o1", consent.DisclosureFilter{From: from.UTC(), To: to.In(time.FixedZone("Y", -7*3600))}, -1, 100, []int64{2, 3}},
			{"EmptyRange", "o1", consent.DisclosureFilter{From: to, To: from}, -1, 100, []int64{}},
			{"Everything", "o1", consent.DisclosureFilter{From: at(0), To: at(day), ActorID: "pro1", YoungPersonID: "yp1",
				Category: "health", Purpose: "health-care", LawfulBasis: consent.BasisConsent, Outcome: consent.OutcomeDisclosed}, -1, 100, []int64{0, 5}},
			{"EverythingAfter", "o1", consent.DisclosureFilter{ActorID: "pro1", YoungPersonID: "yp1", Category: "health",
				Purpose: "health-care", LawfulBasis: consent.BasisConsent, Outcome: consent.OutcomeDisclosed}, 0, 100, []int64{5}},
			{"NoMatch", "o1", consent.DisclosureFilter{ActorID: "pro3"}, -1, 100, []int64{}},
		} {
			got, err := s.DisclosuresBy(ctx, tc.org, tc.f, tc.after, tc.limit)
			if err != nil || !slices.Equal(entryIndexes(got), tc.want) {
				t.Errorf("DisclosuresBy %s = %v, %v, want %v", tc.name, entryIndexes(got), err, tc.want)
			}
		}
		got, err := s.DisclosuresBy(ctx, "o1", consent.DisclosureFilter{Outcome: consent.OutcomeDenied}, -1, 10)
		if err != nil || !same(got, []consent.LogEntry{all[4]}) {
			t.Errorf("DisclosuresBy(o1, denied) = %+v, %v, want the whole entry %+v", got, err, all[4])
		}
	})
	t.Run("ConcurrentAppends", func(t *testing.T) {
		s := newStore(t)
		ConcurrentAppends(t, []consent.LogStore{s}, 8, 3, 2)
	})
}

// ConcurrentAppends has writers goroutines, spread over stores (handles on
// one log, as several server instances would hold), each append rounds
// batches of batch entries the way the ledger does: read the size, compute
// the real tree hashes from what is stored, append at that size, and retry
// on ErrConflict. The log must end with every entry exactly once, at
// indexes 0..n-1, each batch in one piece, and a tree that recomputes from
// the entries to the stored hashes.
func ConcurrentAppends(t *testing.T, stores []consent.LogStore, writers, rounds, batch int) {
	t.Helper()
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for r := range rounds {
				if err := appendWithRetry(t, s, w, r, batch); err != nil {
					t.Errorf("writer %d round %d: %v", w, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	total := int64(writers * rounds * batch)
	s := stores[0]
	if n, err := s.LogSize(ctx); err != nil || n != total {
		t.Fatalf("LogSize after %d writers × %d rounds × %d entries = %d, %v, want %d", writers, rounds, batch, n, err, total)
	}
	got, err := s.LogEntries(ctx, 0, total+10)
	must(t, err, "LogEntries")
	if len(got) != int(total) {
		t.Fatalf("LogEntries(0, %d) returned %d entries, want %d", total+10, len(got), total)
	}
	seen := map[string]int64{}
	for i, e := range got {
		if e.Index != int64(i) {
			t.Fatalf("entry %d of the log has index %d: a gap or a duplicate", i, e.Index)
		}
		if prev, dup := seen[string(e.Data)]; dup {
			t.Errorf("entries %d and %d hold the same append %q", prev, e.Index, e.Data)
		}
		seen[string(e.Data)] = e.Index
		var w, r, k int
		if _, err := fmt.Sscanf(string(e.Data), "writer %d round %d entry %d", &w, &r, &k); err != nil {
			t.Fatalf("entry %d holds %q: %v", e.Index, e.Data, err)
		}
		// A batch is stored in one piece: entry k of a batch follows entry k-1.
		if k > 0 && string(got[i-1].Data) != fmt.Sprintf("writer %d round %d entry %d", w, r, k-1) {
			t.Errorf("entry %d (%q) does not follow the rest of its batch (entry %d is %q)", e.Index, e.Data, i-1, got[i-1].Data)
		}
	}
	// Every stored hash is what the entries make.
	recomputed := map[int64]tlog.Hash{}
	mem := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			h, ok := recomputed[x]
			if !ok {
				return nil, fmt.Errorf("hash %d not recomputed yet", x)
			}
			out[i] = h
		}
		return out, nil
	})
	for _, e := range got {
		hs, err := tlog.StoredHashes(e.Index, e.Data, mem)
		must(t, err, "recompute tree hashes")
		base := tlog.StoredHashIndex(0, e.Index)
		for j, h := range hs {
			recomputed[base+int64(j)] = h
		}
	}
	ix := make([]int64, 0, len(recomputed))
	for x := range tlog.StoredHashCount(total) {
		ix = append(ix, x)
	}
	stored, err := s.LogHashes(ctx, ix)
	must(t, err, "LogHashes(every index)")
	if len(stored) != len(ix) {
		t.Fatalf("LogHashes(every index) returned %d hashes, want %d", len(stored), len(ix))
	}
	for i, x := range ix {
		if tlog.Hash(stored[i]) != recomputed[x] {
			t.Fatalf("stored hash %d differs from the one the entries make: the tree was built from a stale view", x)
		}
	}
}

// appendWithRetry appends one batch for writer w, round r, as the ledger
// does.
func appendWithRetry(t *testing.T, s consent.LogStore, w, r, batch int) error {
	ctx := t.Context()
	for attempt := 0; attempt < 1000; attempt++ {
		size, err := s.LogSize(ctx)
		if err != nil {
			return fmt.Errorf("LogSize: %w", err)
		}
		pending := map[int64]tlog.Hash{}
		reader := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(ix))
			var missing []int64
			var pos []int
			for i, x := range ix {
				if h, ok := pending[x]; ok {
					out[i] = h
				} else {
					missing, pos = append(missing, x), append(pos, i)
				}
			}
			if len(missing) > 0 {
				hs, err := s.LogHashes(ctx, missing)
				if err != nil {
					return nil, err
				}
				if len(hs) != len(missing) {
					return nil, fmt.Errorf("LogHashes(%v) returned %d hashes", missing, len(hs))
				}
				for j, h := range hs {
					out[pos[j]] = h
				}
			}
			return out, nil
		})
		var entries []consent.LogEntry
		var hashes []consent.StoredHash
		for k := range batch {
			n := size + int64(k)
			e := logEntry(n, fmt.Sprintf("yp%d", w), fmt.Sprintf("o%d", r), at(time.Duration(n)*time.Millisecond))
			e.Data = fmt.Appendf(nil, "writer %d round %d entry %d", w, r, k)
			hs, err := tlog.StoredHashes(n, e.Data, reader)
			if err != nil {
				return fmt.Errorf("tree hashes for %d: %w", n, err)
			}
			base := tlog.StoredHashIndex(0, n)
			for j, h := range hs {
				pending[base+int64(j)] = h
				hashes = append(hashes, consent.StoredHash{Index: base + int64(j), Hash: h})
			}
			entries = append(entries, e)
		}
		err = s.AppendLog(ctx, size, entries, hashes)
		if err == nil {
			return nil
		}
		if !errors.Is(err, consent.ErrConflict) {
			return fmt.Errorf("AppendLog(first %d): %w", size, err)
		}
	}
	return errors.New("no success after 1000 attempts")
}
