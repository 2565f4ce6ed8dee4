package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/mod/sumdb/tlog"

	"sayso/consent"
	"sayso/internal/wire"
	"sayso/store/mongo"
	"sayso/store/sqlite"
)

const migrateUsage = `Usage: sayso migrate-store --from data/sayso.db --to DESTINATION [flags]

Copies everything in an embedded store into another store: a MongoDB
deployment (--to mongodb://... or mongodb+srv://...) or another SQLite file
(--to a path). Stop Sayso first. Run it again to resume if it stops: what
is already there is skipped, and the disclosure log carries on where the
destination's ends.

It copies the stored content as it is, still sealed: run Sayso on the
destination with the same keys folder as the source (data/keys beside
data/sayso.db). Sessions are not copied (everyone signs in again), nor are
one-time values (sign-in nonces, which expire within hours).

Flags:
`

// migrateSource is what migrate-store reads: a store it can walk whole.
type migrateSource interface {
	consent.LogStore
	Export(ctx context.Context, visit func(record any) error) error
	ExportCount(ctx context.Context) (int64, error)
}

// migrateTarget is what it writes: a store that also takes a policy at the
// version it has.
type migrateTarget interface {
	consent.Store
	ImportPolicy(ctx context.Context, p consent.Policy) error
}

var (
	_ migrateSource = (*sqlite.Store)(nil)
	_ migrateTarget = (*sqlite.Store)(nil)
	_ migrateTarget = (*mongo.Store)(nil)
)

// migrateBatch is how many log entries one append copies.
var migrateBatch int64 = 512

func migrateStoreCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("sayso migrate-store", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(stderr, migrateUsage)
		fset.PrintDefaults()
	}
	dataDir := getenv("SAYSO_DATA_DIR")
	if dataDir == "" {
		dataDir = "./data"
	}
	from := fset.String("from", filepath.Join(dataDir, "sayso.db"), "the embedded store to copy (its folder's default is SAYSO_DATA_DIR)")
	to := fset.String("to", "", "where to copy it: a mongodb:// or mongodb+srv:// URI, or a path for a SQLite file")
	database := fset.String("store-database", orDefault(getenv("SAYSO_STORE_DATABASE"), wire.DefaultStoreDatabase), "MongoDB database, with a mongodb:// destination (env SAYSO_STORE_DATABASE)")
	quiet := fset.Bool("quiet", false, "no progress bar")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sayso migrate-store: %s\n", fmt.Sprintf(format, a...))
		return 2
	}
	if fset.NArg() > 0 {
		return usageErr("takes no arguments, got %q", fset.Args())
	}
	toMongo := strings.Contains(*to, "://")
	switch {
	case *to == "":
		return usageErr("say where to copy to with --to mongodb://... (or --to a path for another SQLite file)")
	case toMongo:
		if err := checkStore(*to); err != nil {
			return usageErr("--to: %v", err)
		}
		if err := mongo.ValidateDatabaseName(*database); err != nil {
			return usageErr("--store-database: %v", err)
		}
	}
	if _, err := os.Stat(*from); errors.Is(err, fs.ErrNotExist) {
		return usageErr("there is no Sayso store at %s", *from)
	} else if err != nil {
		return usageErr("%v", err)
	}
	if !toMongo && sameFile(*from, *to) {
		return usageErr("--from and --to are the same file")
	}

	logger := newLogger(io.Discard, "error")
	src, err := sqlite.Open(ctx, logger, *from)
	if err != nil {
		return usageErr("open %s: %v", *from, err)
	}
	defer src.Close()
	var dst migrateTarget
	if toMongo {
		dst, err = mongo.Open(ctx, logger, *to, *database)
	} else {
		dst, err = sqlite.Open(ctx, logger, *to)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sayso migrate-store: open the destination: %v\n", err)
		return 1
	}
	defer dst.Close()

	var bar *progressbar.ProgressBar
	progress := migrateProgress{total: func(n int64) {
		if !*quiet {
			bar = progressbar.NewOptions64(n, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("copying"),
				progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
	}, add: func(n int64) {
		if bar != nil {
			_ = bar.Add64(n)
		}
	}}
	rep, err := migrateStore(ctx, src, dst, progress)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "sayso migrate-store: interrupted (%s so far); run the same command again to resume\n", rep.brief())
			return 1
		}
		fmt.Fprintf(stderr, "sayso migrate-store: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Records: copied %d, %d were there already. Not copied: %d sessions (everyone signs in again) and one-time values (sign-in nonces, which expire).\n",
		rep.Records, rep.RecordsPresent, rep.Sessions)
	fmt.Fprintf(stdout, "Disclosure log: %d entries with their tree hashes (copied %d, %d were there already); %d checkpoints (copied %d).\n",
		rep.LogSize, rep.LogSize-rep.EntriesPresent, rep.EntriesPresent, rep.Checkpoints+rep.CheckpointsPresent, rep.Checkpoints)
	if rep.CheckpointsLater > 0 {
		fmt.Fprintf(stdout, "The source's log grew while copying: %d later checkpoints were left for the next run (is Sayso still running on it?).\n", rep.CheckpointsLater)
	}
	fmt.Fprintf(stdout, "Done. Run Sayso on the destination with the keys folder %s (copy it to every instance): what the store holds is sealed under those keys. Check the copy with sayso verify-log.\n",
		filepath.Join(filepath.Dir(*from), "keys"))
	return 0
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// sameFile reports whether two paths name one file (or would).
func sameFile(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// migrateProgress is told the whole amount of work once, then each step.
type migrateProgress struct {
	total func(n int64)
	add   func(n int64)
}

// migrateReport is what a migration did.
type migrateReport struct {
	Records, RecordsPresent int64 // records copied, and found already there
	Sessions                int64 // sessions not copied
	LogSize                 int64 // the destination's log now ends here
	EntriesPresent          int64 // entries that were there before this run
	Checkpoints             int   // checkpoints copied
	CheckpointsPresent      int   // and found already there
	CheckpointsLater        int   // beyond the log copied (the source grew)
}

func (r migrateReport) brief() string {
	return fmt.Sprintf("%d records copied, the log copied up to %d entries", r.Records, r.LogSize)
}

// migrateStore copies src into dst: first it checks that dst's disclosure
// log is a prefix of src's (so a destination that is some other log is
// refused before anything is written), then it copies every record, then
// the log entries from dst's size on, in order, with their tree hashes, then
// the checkpoints. Every step is a create or an append that refuses to
// repeat itself, so running it again after an interruption resumes it: a
// record that is already there is compared, and skipped if it is the same.
func migrateStore(ctx context.Context, src migrateSource, dst migrateTarget, progress migrateProgress) (migrateReport, error) {
	var rep migrateReport
	srcSize, err := src.LogSize(ctx)
	if err != nil {
		return rep, fmt.Errorf("read the source's log: %w", err)
	}
	dstSize, err := dst.LogSize(ctx)
	if err != nil {
		return rep, fmt.Errorf("read the destination's log: %w", err)
	}
	if err := checkLogPrefix(ctx, src, dst, srcSize, dstSize); err != nil {
		return rep, err
	}
	rep.LogSize, rep.EntriesPresent = dstSize, dstSize
	sizes, err := src.CheckpointSizes(ctx)
	if err != nil {
		return rep, fmt.Errorf("read the source's checkpoints: %w", err)
	}
	records, err := src.ExportCount(ctx)
	if err != nil {
		return rep, err
	}
	progress.total(records + srcSize - dstSize + int64(len(sizes)))

	// Records.
	const shown = 5
	var differ []string
	err = src.Export(ctx, func(v any) error {
		outcome, why, err := copyRecord(ctx, dst, v)
		if err != nil {
			return err
		}
		switch outcome {
		case recordCopied:
			rep.Records++
		case recordPresent:
			rep.RecordsPresent++
		case recordSkipped:
			rep.Sessions++
		case recordDiffers:
			differ = append(differ, why)
		}
		progress.add(1)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("copy records: %w", err)
	}
	if n := len(differ); n > 0 {
		more := ""
		if n > shown {
			more = fmt.Sprintf("; and %d more", n-shown)
			differ = differ[:shown]
		}
		return rep, fmt.Errorf("records in the destination differ from the source's: %s%s (%d in all). The source changed after an earlier run, or the destination was not empty: copy into an empty destination",
			strings.Join(differ, "; "), more, n)
	}

	// The disclosure log, from where the destination's ends.
	for from := dstSize; from < srcSize; from += migrateBatch {
		to := min(from+migrateBatch, srcSize)
		entries, hashes, err := readLogBatch(ctx, src, from, to)
		if err != nil {
			return rep, err
		}
		if err := dst.AppendLog(ctx, from, entries, hashes); err != nil {
			if errors.Is(err, consent.ErrConflict) {
				return rep, fmt.Errorf("the destination's log grew while copying it: stop every Sayso that uses the destination, then run this again: %w", err)
			}
			return rep, fmt.Errorf("copy log entries %d to %d: %w", from, to-1, err)
		}
		rep.LogSize = to
		progress.add(to - from)
	}

	// Checkpoints of the log copied.
	for _, size := range sizes {
		if size > srcSize {
			rep.CheckpointsLater++
			progress.add(1)
			continue
		}
		signed, err := src.Checkpoint(ctx, size)
		if err != nil {
			return rep, fmt.Errorf("read the source's checkpoint at %d: %w", size, err)
		}
		had, err := dst.Checkpoint(ctx, size)
		switch {
		case err == nil:
			rep.CheckpointsPresent++
		case errors.Is(err, consent.ErrNotFound):
			// PutCheckpoint keeps a checkpoint stored meanwhile; the read
			// below compares whatever stands.
			if err := dst.PutCheckpoint(ctx, size, signed); err != nil {
				return rep, fmt.Errorf("copy the checkpoint at %d: %w", size, err)
			}
			if had, err = dst.Checkpoint(ctx, size); err != nil {
				return rep, fmt.Errorf("read back the checkpoint at %d: %w", size, err)
			}
			rep.Checkpoints++
		default:
			return rep, fmt.Errorf("read the destination's checkpoint at %d: %w", size, err)
		}
		if !bytes.Equal(had, signed) {
			return rep, fmt.Errorf("the destination holds a different checkpoint for a log of %d entries than the source: they are not the same log", size)
		}
		progress.add(1)
	}
	return rep, nil
}

// readLogBatch reads the source's entries [from, to) and the tree hashes
// appending them added, checking that each entry's bytes are what its leaf
// hash commits to.
func readLogBatch(ctx context.Context, src consent.LogStore, from, to int64) ([]consent.LogEntry, []consent.StoredHash, error) {
	entries, err := src.LogEntries(ctx, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("read the source's log entries %d to %d: %w", from, to-1, err)
	}
	for i, e := range entries {
		if e.Index != from+int64(i) {
			return nil, nil, fmt.Errorf("the source's log has no entry %d: run sayso verify-log on it", from+int64(i))
		}
	}
	if int64(len(entries)) != to-from {
		return nil, nil, fmt.Errorf("the source's log has no entry %d: run sayso verify-log on it", from+int64(len(entries)))
	}
	first, end := tlog.StoredHashIndex(0, from), tlog.StoredHashIndex(0, to)
	indexes := make([]int64, 0, end-first)
	for x := first; x < end; x++ {
		indexes = append(indexes, x)
	}
	hs, err := src.LogHashes(ctx, indexes)
	if err != nil {
		return nil, nil, fmt.Errorf("read the source's tree hashes for entries %d to %d: %w", from, to-1, err)
	}
	hashes := make([]consent.StoredHash, len(hs))
	for i, h := range hs {
		hashes[i] = consent.StoredHash{Index: indexes[i], Hash: h}
	}
	for _, e := range entries {
		if [32]byte(tlog.RecordHash(e.Data)) != hs[tlog.StoredHashIndex(0, e.Index)-first] {
			return nil, nil, fmt.Errorf("the source's log entry %d does not match its tree hash: run sayso verify-log on it", e.Index)
		}
	}
	return entries, hashes, nil
}

// checkLogPrefix refuses a destination whose log is not the start of the
// source's: its last entry must be the source's entry at that index, byte
// for byte, and the tree over its entries must have the source's root.
func checkLogPrefix(ctx context.Context, src, dst consent.LogStore, srcSize, dstSize int64) error {
	if dstSize == 0 {
		return nil
	}
	if dstSize > srcSize {
		return fmt.Errorf("the destination's disclosure log has %d entries and the source's only %d: it is not a copy of this log. Copy into an empty destination", dstSize, srcSize)
	}
	last := dstSize - 1
	a, err := src.LogEntries(ctx, last, dstSize)
	if err != nil {
		return fmt.Errorf("read the source's log entry %d: %w", last, err)
	}
	b, err := dst.LogEntries(ctx, last, dstSize)
	if err != nil {
		return fmt.Errorf("read the destination's log entry %d: %w", last, err)
	}
	if len(a) != 1 || len(b) != 1 || !sameRecord(a[0], b[0]) {
		return fmt.Errorf("the destination's disclosure log differs from the source's at entry %d: it is not a copy of this log. Copy into an empty destination", last)
	}
	ra, err := tlog.TreeHash(dstSize, hashReader(ctx, src))
	if err != nil {
		return fmt.Errorf("read the source's tree: %w", err)
	}
	rb, err := tlog.TreeHash(dstSize, hashReader(ctx, dst))
	if err != nil {
		return fmt.Errorf("read the destination's tree: %w", err)
	}
	if ra != rb {
		return fmt.Errorf("the destination's disclosure log differs from the source's before entry %d (the trees of their first %d entries differ): it is not a copy of this log. Copy into an empty destination", last, dstSize)
	}
	return nil
}

func hashReader(ctx context.Context, store consent.LogStore) tlog.HashReader {
	return tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
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
}

type recordOutcome int

const (
	recordCopied recordOutcome = iota
	recordPresent
	recordSkipped
	recordDiffers
)

// copyRecord creates one exported record in dst. If dst has it already
// (ErrConflict), it reads dst's copy: the same is recordPresent, anything
// else recordDiffers with a line saying which record.
func copyRecord(ctx context.Context, dst migrateTarget, v any) (recordOutcome, string, error) {
	var (
		what   string
		err    error
		stored func() (any, error)
	)
	switch r := v.(type) {
	case consent.Person:
		what, err = "person "+r.ID, dst.CreatePerson(ctx, r)
		stored = func() (any, error) { return dst.GetPerson(ctx, r.ID) }
	case consent.Organisation:
		what, err = "organisation "+r.ID, dst.CreateOrganisation(ctx, r)
		stored = func() (any, error) { return dst.GetOrganisation(ctx, r.ID) }
	case consent.Membership:
		what, err = "membership "+r.ID, dst.CreateMembership(ctx, r)
		stored = func() (any, error) {
			return find(dst.MembershipsOf(ctx, r.PersonID))(func(m consent.Membership) bool { return m.ID == r.ID })
		}
	case consent.FamilyLink:
		what, err = "family link "+r.FamilyID+" to "+r.YoungPersonID, dst.CreateFamilyLink(ctx, r)
		stored = func() (any, error) {
			return find(dst.FamilyOf(ctx, r.YoungPersonID))(func(l consent.FamilyLink) bool { return l.FamilyID == r.FamilyID })
		}
	case consent.Holding:
		what, err = "holding "+r.ID, dst.CreateHolding(ctx, r)
		stored = func() (any, error) {
			return find(dst.HoldingsOf(ctx, r.YoungPersonID))(func(h consent.Holding) bool { return h.ID == r.ID })
		}
	case consent.Policy:
		what, err = "policy of "+r.YoungPersonID, dst.ImportPolicy(ctx, r)
		stored = func() (any, error) { return dst.GetPolicy(ctx, r.YoungPersonID) }
	case consent.AccessRequest:
		what, err = "request "+r.ID, dst.CreateRequest(ctx, r)
		stored = func() (any, error) { return dst.GetRequest(ctx, r.ID) }
	case consent.Concern:
		what, err = "concern "+r.ID, dst.CreateConcern(ctx, r)
		stored = func() (any, error) {
			return find(dst.ConcernsAbout(ctx, r.YoungPersonID))(func(c consent.Concern) bool { return c.ID == r.ID })
		}
	case consent.WrappedKey:
		what, err = "key of "+r.YoungPersonID, dst.PutKey(ctx, r)
		stored = func() (any, error) { return dst.GetKey(ctx, r.YoungPersonID) }
	case consent.Session:
		return recordSkipped, "", nil
	default:
		return 0, "", fmt.Errorf("migrate-store cannot copy a %T yet", v)
	}
	if err == nil {
		return recordCopied, "", nil
	}
	if !errors.Is(err, consent.ErrConflict) {
		return 0, "", fmt.Errorf("%s: %w", what, err)
	}
	had, err := stored()
	if errors.Is(err, consent.ErrNotFound) {
		return recordDiffers, what + " (another record has its id or sign-in subject)", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", what, err)
	}
	if !sameRecord(had, v) {
		return recordDiffers, what, nil
	}
	return recordPresent, "", nil
}

// find returns the first element of a list that matches, or ErrNotFound.
func find[T any](list []T, err error) func(match func(T) bool) (any, error) {
	return func(match func(T) bool) (any, error) {
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			if match(x) {
				return x, nil
			}
		}
		return nil, consent.ErrNotFound
	}
}

// sameRecord compares two records as stores keep them: times by instant,
// and an empty list the same as none (stores differ in which they return).
func sameRecord(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Type() == vb.Type() && sameValue(va, vb)
}

var timeType = reflect.TypeFor[time.Time]()

func sameValue(a, b reflect.Value) bool {
	if a.Type() == timeType {
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	default:
		return a.Equal(b)
	}
}
