package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"sayso/consent"
)

// Report is what Verify found.
type Report struct {
	Entries     int64
	Checkpoints int
	// FirstBad is the first entry index that is changed, missing, extra or
	// out of place; -1 when the log is intact.
	FirstBad int64
	Problem  string
}

// OK reports whether the log verified.
func (r Report) OK() bool { return r.FirstBad < 0 }

// chunk is how many entries Verify reads at a time.
const chunk = 2048

// Verify recomputes the tree from the stored entries and checks it against
// the stored tree hashes and every stored checkpoint (signature, origin and
// root). progress, if not nil, is told how far it has got.
func Verify(ctx context.Context, store consent.LogStore, vkeys []string, origin string, progress func(done, total int64)) (Report, error) {
	rep := Report{FirstBad: -1}
	bad := func(i int64, format string, args ...any) (Report, error) {
		rep.FirstBad, rep.Problem = i, fmt.Sprintf(format, args...)
		return rep, nil
	}
	size, err := store.LogSize(ctx)
	if err != nil {
		return rep, err
	}
	sizes, err := store.CheckpointSizes(ctx)
	if err != nil {
		return rep, err
	}
	rep.Entries, rep.Checkpoints = size, len(sizes)
	if n := len(sizes); n > 0 && sizes[n-1] > size {
		return bad(size, "the log has %d entries but was checkpointed at %d: entries from index %d are missing", size, sizes[n-1], size)
	}
	// Hashes below the current record's are checked before they are used.
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		hs, err := store.LogHashes(ctx, ix)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(hs))
		for i := range hs {
			out[i] = hs[i]
		}
		return out, nil
	})
	next := int64(0)
	cp := 0
	for from := int64(0); from < size; from += chunk {
		to := min(from+chunk, size)
		entries, err := store.LogEntries(ctx, from, to)
		if err != nil {
			return rep, err
		}
		for _, e := range entries {
			if e.Index != next {
				return bad(next, "entry %d is missing (the next stored entry is %d)", next, e.Index)
			}
			want, err := tlog.StoredHashes(e.Index, e.Data, r)
			if err != nil {
				return rep, err
			}
			base := tlog.StoredHashIndex(0, e.Index)
			idx := make([]int64, len(want))
			for j := range idx {
				idx[j] = base + int64(j)
			}
			got, err := store.LogHashes(ctx, idx)
			if errors.Is(err, consent.ErrNotFound) {
				return bad(e.Index, "entry %d has no tree hashes", e.Index)
			}
			if err != nil {
				return rep, err
			}
			for j := range want {
				if tlog.Hash(got[j]) != want[j] {
					return bad(e.Index, "entry %d differs from what the tree recorded", e.Index)
				}
			}
			if problem := lookupMismatch(e); problem != "" {
				return bad(e.Index, "entry %d: %s", e.Index, problem)
			}
			next++
			for cp < len(sizes) && sizes[cp] == next {
				if msg, err := checkCheckpoint(ctx, store, r, sizes[cp], vkeys, origin); err != nil {
					return rep, err
				} else if msg != "" {
					return bad(max(0, next-1), "%s", msg)
				}
				cp++
			}
		}
		if int64(len(entries)) < to-from {
			return bad(next, "entry %d is missing", next)
		}
		if progress != nil {
			progress(next, size)
		}
	}
	if next != size {
		return bad(next, "entry %d is missing", next)
	}
	for ; cp < len(sizes); cp++ { // a checkpoint of the empty tree
		if msg, err := checkCheckpoint(ctx, store, r, sizes[cp], vkeys, origin); err != nil {
			return rep, err
		} else if msg != "" {
			return bad(0, "%s", msg)
		}
	}
	return rep, nil
}

func checkCheckpoint(ctx context.Context, store consent.LogStore, r tlog.HashReader, size int64, vkeys []string, origin string) (string, error) {
	signed, err := store.Checkpoint(ctx, size)
	if err != nil {
		return "", err
	}
	c, err := OpenCheckpoint(signed, vkeys, origin)
	if err != nil {
		return fmt.Sprintf("checkpoint at size %d does not verify: %v", size, err), nil
	}
	if c.Size != size {
		return fmt.Sprintf("checkpoint stored at size %d says %d", size, c.Size), nil
	}
	root := emptyRoot
	if size > 0 {
		if root, err = tlog.TreeHash(size, r); err != nil {
			return "", err
		}
	}
	if root != c.Root {
		return fmt.Sprintf("the tree of %d entries does not match its signed checkpoint", size), nil
	}
	return "", nil
}

// lookupMismatch checks that the look-up copy of an entry's fields says what
// its committed bytes say, so a changed column cannot hide.
func lookupMismatch(e consent.LogEntry) string {
	d, _, err := consent.DisclosureHeader(e.Data)
	if err != nil {
		return "cannot be read: " + err.Error()
	}
	want := consent.EntryFor(e.Index, d, e.Data)
	if !bytes.Equal(want.Data, e.Data) || !want.At.Equal(e.At) || want.YoungPersonID != e.YoungPersonID || want.ActorID != e.ActorID ||
		want.OrganisationID != e.OrganisationID || want.Category != e.Category || want.Purpose != e.Purpose ||
		want.LawfulBasis != e.LawfulBasis || want.Outcome != e.Outcome {
		return "its look-up fields do not match its stored bytes"
	}
	return ""
}
