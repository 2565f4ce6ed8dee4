package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/mod/sumdb/tlog"

	"sayso/consent"
)

// The disclosure log is one sequence: entry documents whose _id is the log
// index, in log_entries, which is not sharded (see ARCHITECTURE). The
// unique _id is what makes concurrent appends from several instances safe:
// two writers that both saw size n both insert _id n, and exactly one of
// them succeeds.
//
// An entry document also carries the tree hashes that appending it added,
// so an entry and its hashes are one atomic write: no reader ever sees an
// entry without its hashes, whether another instance is between two steps
// of an append or died there.

// hashSlot names the entry whose append stores the tree hash at storage
// index x, and the hash's place among that entry's hashes. The hash of a
// subtree is stored when its last leaf is appended.
func hashSlot(x int64) (entry int64, pos int) {
	level, n := tlog.SplitStoredHashIndex(x)
	entry = (n+1)<<level - 1
	return entry, int(x - tlog.StoredHashIndex(0, entry))
}

// hashesPerEntry sorts hashes onto the entries [first, first+n) that add
// them. They must be exactly the tree hashes those entries add: a hash of
// another entry, a repeated one or a missing one is ErrInvalid, as it would
// be lost or leave the tree unreadable.
func hashesPerEntry(first int64, n int, hashes []consent.StoredHash) ([][][]byte, error) {
	per := make([][][]byte, n)
	for i := range per {
		e := first + int64(i)
		per[i] = make([][]byte, tlog.StoredHashIndex(0, e+1)-tlog.StoredHashIndex(0, e))
	}
	for _, h := range hashes {
		if h.Index < 0 {
			return nil, fmt.Errorf("append log: tree hash index %d: %w", h.Index, consent.ErrInvalid)
		}
		e, pos := hashSlot(h.Index)
		if e < first || e >= first+int64(n) {
			return nil, fmt.Errorf("append log: tree hash %d belongs to entry %d, not to this batch of %d from %d: %w", h.Index, e, n, first, consent.ErrInvalid)
		}
		slot := &per[e-first][pos]
		if *slot != nil {
			return nil, fmt.Errorf("append log: tree hash %d given twice: %w", h.Index, consent.ErrInvalid)
		}
		*slot = append([]byte(nil), h.Hash[:]...)
	}
	for i, hs := range per {
		for pos, h := range hs {
			if h == nil {
				return nil, fmt.Errorf("append log: entry %d lacks its tree hash %d: %w", first+int64(i), tlog.StoredHashIndex(0, first+int64(i))+int64(pos), consent.ErrInvalid)
			}
		}
	}
	return per, nil
}

// AppendLog checks that first is the current size, then inserts the
// entries in order, each with _id its index and its tree hashes. If another
// instance appended since the check, the first insert meets its _id and
// nothing of this batch is stored: ErrConflict. If this instance dies in the
// middle of the insert, a prefix of the batch is stored with its hashes,
// which leaves the log whole; those entries were never acknowledged, so
// nothing they record was disclosed.
func (s *Store) AppendLog(ctx context.Context, first int64, entries []consent.LogEntry, hashes []consent.StoredHash) error {
	for i, e := range entries {
		if e.Index != first+int64(i) {
			return fmt.Errorf("append log: entry %d of the batch has index %d: %w", i, e.Index, consent.ErrInvalid)
		}
	}
	per, err := hashesPerEntry(first, len(entries), hashes)
	if err != nil {
		return err
	}
	// A causally consistent session (not a transaction): a read after the
	// insert waits until the majority view includes what the insert met.
	sess, err := s.client.StartSession(options.Session().SetCausalConsistency(true))
	if err != nil {
		return fail("append log", err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	ctx = mongo.NewSessionContext(ctx, sess)
	size, err := s.LogSize(ctx)
	if err != nil {
		return err
	}
	if size != first {
		return fmt.Errorf("append log at %d: the log has %d entries: %w", first, size, consent.ErrConflict)
	}
	if len(entries) == 0 {
		return nil
	}
	docs := make([]any, len(entries))
	for i, e := range entries {
		docs[i] = toEntryDoc(e, per[i])
	}
	_, err = s.entries.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	err = appendError(first, err)
	if errors.Is(err, consent.ErrConflict) {
		s.awaitOtherAppend(ctx)
	}
	return err
}

// awaitOtherAppend waits, for a few seconds at most, until the entry this
// instance collided with is majority-committed, so the caller's next
// LogSize sees it. Without this, the winner's entries are on the primary
// (where the unique index sees them) but not yet in the majority view
// (where LogSize reads), and the caller would collide again and again until
// replication caught up. ctx must carry the session of the failed insert:
// its operation time makes this read wait for the majority view to reach it.
func (s *Store) awaitOtherAppend(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.LogSize(ctx); err != nil {
		s.log.Debug("waiting for a concurrent log append to commit", slog.String("error", err.Error()))
	}
}

// appendError maps the ordered insert's error. Only a duplicate _id on the
// batch's first entry, with nothing else wrong, is a conflict: then nothing
// of the batch was stored. Anything else, including a duplicate further
// into the batch (which only a log with a gap could cause) or a majority
// that could not be confirmed, is ErrUnavailable: the caller must not
// disclose.
func appendError(first int64, err error) error {
	if err == nil {
		return nil
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 &&
		bwe.WriteErrors[0].Index == 0 && mongo.IsDuplicateKeyError(bwe.WriteErrors[0].WriteError) {
		return fmt.Errorf("append log at %d: another instance appended first: %w", first, consent.ErrConflict)
	}
	return fmt.Errorf("append log at %d: %w: %w", first, consent.ErrUnavailable, err)
}

// LogSize is one more than the largest index, which is the count: entries
// are only ever inserted at the current size, in order, so there is no gap.
func (s *Store) LogSize(ctx context.Context) (int64, error) {
	d, err := one[entryDoc](ctx, s.entries, "log size", bson.D{},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if errors.Is(err, consent.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return d.Index + 1, nil
}

// LogHashes reads hashes by storage index, in the order asked, from the
// entries that added them.
func (s *Store) LogHashes(ctx context.Context, indexes []int64) ([][32]byte, error) {
	out := make([][32]byte, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	type ref struct{ out, pos int }
	want := map[int64][]ref{}
	for i, x := range indexes {
		if x < 0 {
			return nil, fmt.Errorf("log hashes: index %d: %w", x, consent.ErrNotFound)
		}
		e, pos := hashSlot(x)
		want[e] = append(want[e], ref{i, pos})
	}
	ids := make([]int64, 0, len(want))
	for e := range want {
		ids = append(ids, e)
	}
	cur, err := s.entries.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "hashes", Value: 1}}))
	if err != nil {
		return nil, fail("log hashes", err)
	}
	defer cur.Close(ctx)
	found := 0
	for cur.Next(ctx) {
		var d entryDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fail("log hashes", err)
		}
		for _, r := range want[d.Index] {
			if r.pos >= len(d.Hashes) {
				return nil, fmt.Errorf("log hashes: entry %d has no tree hash %d: %w", d.Index, indexes[r.out], consent.ErrNotFound)
			}
			h := d.Hashes[r.pos]
			if len(h) != 32 {
				return nil, fmt.Errorf("log hash %d has %d bytes: %w", indexes[r.out], len(h), consent.ErrInvalid)
			}
			copy(out[r.out][:], h)
		}
		found++
	}
	if err := cur.Err(); err != nil {
		return nil, fail("log hashes", err)
	}
	if found != len(ids) {
		return nil, fmt.Errorf("log hashes: the entries of %d of %d asked for are missing: %w", len(ids)-found, len(ids), consent.ErrNotFound)
	}
	return out, nil
}

// withoutHashes leaves the tree hashes out of entries read for their content.
var withoutHashes = bson.D{{Key: "hashes", Value: 0}}

// LogEntries returns entries with from <= index < to.
func (s *Store) LogEntries(ctx context.Context, from, to int64) ([]consent.LogEntry, error) {
	if to <= from {
		return []consent.LogEntry{}, nil
	}
	return all(ctx, s.entries, "log entries", entryDoc.entry,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(withoutHashes))
}

// PutCheckpoint keeps the first checkpoint stored for a size.
func (s *Store) PutCheckpoint(ctx context.Context, size int64, signed []byte) error {
	err := insert(ctx, s.checkpoints, "put checkpoint", checkpointDoc{Size: size, Signed: signed})
	if errors.Is(err, consent.ErrConflict) {
		return nil
	}
	return err
}

// Checkpoint returns the checkpoint for size.
func (s *Store) Checkpoint(ctx context.Context, size int64) ([]byte, error) {
	d, err := one[checkpointDoc](ctx, s.checkpoints, "checkpoint", byID(size))
	return d.Signed, err
}

// LatestCheckpoint returns the checkpoint with the largest size.
func (s *Store) LatestCheckpoint(ctx context.Context) (int64, []byte, error) {
	d, err := one[checkpointDoc](ctx, s.checkpoints, "latest checkpoint", bson.D{},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}))
	return d.Size, d.Signed, err
}

// CheckpointSizes lists every checkpointed size, ascending.
func (s *Store) CheckpointSizes(ctx context.Context) ([]int64, error) {
	return all(ctx, s.checkpoints, "checkpoint sizes", func(d checkpointDoc) int64 { return d.Size }, bson.D{},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "_id", Value: 1}}))
}

// limited applies a list method's limit as SQL does: a negative limit is
// none, and 0 returns nothing (the caller skips the query).
func limited(o *options.FindOptionsBuilder, limit int) *options.FindOptionsBuilder {
	if limit > 0 {
		o.SetLimit(int64(limit))
	}
	return o
}

// DisclosuresAbout lists what was shown of a young person, newest first.
func (s *Store) DisclosuresAbout(ctx context.Context, youngPersonID string, before int64, limit int) ([]consent.LogEntry, error) {
	if limit == 0 {
		return []consent.LogEntry{}, nil
	}
	filter := bson.D{{Key: "young_person_id", Value: youngPersonID},
		{Key: "outcome", Value: bson.D{{Key: "$in", Value: bson.A{string(consent.OutcomeDisclosed), string(consent.OutcomePermitted)}}}}}
	if before >= 0 {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	return all(ctx, s.entries, "disclosures about", entryDoc.entry, filter,
		limited(options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetProjection(withoutHashes), limit))
}

// DisclosuresBy lists an organisation's entries matching f, oldest first.
func (s *Store) DisclosuresBy(ctx context.Context, organisationID string, f consent.DisclosureFilter, after int64, limit int) ([]consent.LogEntry, error) {
	if limit == 0 {
		return []consent.LogEntry{}, nil
	}
	filter := bson.D{
		{Key: "organisation_id", Value: organisationID},
		{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}},
	}
	var at bson.D
	if !f.From.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: bson.DateTime(f.From.UnixMilli())})
	}
	if !f.To.IsZero() {
		at = append(at, bson.E{Key: "$lt", Value: bson.DateTime(f.To.UnixMilli())})
	}
	if at != nil {
		filter = append(filter, bson.E{Key: "at", Value: at})
	}
	for _, c := range []struct{ field, value string }{
		{"actor_id", f.ActorID}, {"young_person_id", f.YoungPersonID}, {"category", f.Category},
		{"purpose", f.Purpose}, {"lawful_basis", string(f.LawfulBasis)}, {"outcome", string(f.Outcome)},
	} {
		if c.value != "" {
			filter = append(filter, bson.E{Key: c.field, Value: c.value})
		}
	}
	return all(ctx, s.entries, "disclosures by", entryDoc.entry, filter,
		limited(options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(withoutHashes), limit))
}
