// Package ledger is the disclosure log: an append-only RFC 6962 Merkle tree
// (golang.org/x/mod/sumdb/tlog) over the stored bytes of each entry, with
// C2SP checkpoints signed as notes (golang.org/x/mod/sumdb/note), inclusion
// proofs anyone can check, and group commit so concurrent disclosures share
// one durable write.
package ledger

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"sayso/consent"
)

// Config tunes the log.
type Config struct {
	// Origin names the log in its checkpoints, e.g. "sayso.example.org/log".
	Origin string
	// MaxBatch bounds how many entries share one durable write.
	MaxBatch int
	// Window is how long the writer waits for more entries before a write
	// that is not yet full; zero writes whatever is queued at once.
	Window time.Duration
	// CheckpointEvery is how often a new checkpoint is signed while entries
	// arrive.
	CheckpointEvery time.Duration
	// Retired are earlier signing keys, whose checkpoints still verify.
	Retired []ed25519.PublicKey
}

// Log is one instance's handle on the disclosure log.
type Log struct {
	logger *slog.Logger
	store  consent.LogStore
	sealer consent.Sealer
	cfg    Config
	signer *noteSigner
	vkey   string
	vkeys  []string // current first, then retired

	reqs chan *appendReq
	done chan struct{}
	wg   sync.WaitGroup

	cpMu       sync.Mutex // one checkpoint at a time
	lastSigned time.Time  // when this instance last signed one
}

type appendReq struct {
	ctx   context.Context // the caller's; once it ends, nobody waits for this entry
	entry consent.Disclosure
	data  []byte
	index int64
	err   error
	done  chan struct{}
}

// New returns a log over store, sealing each entry's private part with
// sealer and signing checkpoints with key. Call Run.
func New(logger *slog.Logger, store consent.LogStore, sealer consent.Sealer, key ed25519.PrivateKey, cfg Config) (*Log, error) {
	if cfg.Origin == "" {
		return nil, errors.New("ledger: an origin is required")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = time.Minute
	}
	signer, vkey, err := newNoteKeys(cfg.Origin, key)
	if err != nil {
		return nil, err
	}
	retired, err := VerifierKeys(cfg.Origin, cfg.Retired)
	if err != nil {
		return nil, err
	}
	return &Log{logger: logger, store: store, sealer: sealer, cfg: cfg, signer: signer, vkey: vkey, vkeys: append([]string{vkey}, retired...),
		reqs: make(chan *appendReq, 4*cfg.MaxBatch), done: make(chan struct{})}, nil
}

// VerifierKey is the note verifier key (name+hash+base64) for checkpoints.
func (l *Log) VerifierKey() string { return l.vkey }

// VerifierKeys are the current verifier key and those of retired keys.
func (l *Log) VerifierKeys() []string { return l.vkeys }

// Origin is the log's name in its checkpoints.
func (l *Log) Origin() string { return l.cfg.Origin }

// Run starts the writer and the checkpointer; they stop when ctx ends.
func (l *Log) Run(ctx context.Context) {
	l.wg.Add(2)
	go func() { defer l.wg.Done(); l.writer(ctx) }()
	go func() { defer l.wg.Done(); l.checkpointer(ctx) }()
}

// Wait blocks until Run's goroutines have stopped.
func (l *Log) Wait() { l.wg.Wait() }

var _ consent.DisclosureLog = (*Log)(nil)

// ErrStopped means the log is shutting down; nothing was recorded.
var ErrStopped = errors.New("ledger: stopped")

// Record appends d and returns its index once it is durable. If ctx ends
// first the caller must treat the entry as not recorded (it may still
// become durable; a logged attempt that was never answered is safe, the
// opposite is not).
func (l *Log) Record(ctx context.Context, d consent.Disclosure) (int64, error) {
	data, err := consent.EncodeDisclosure(ctx, l.sealer, d)
	if err != nil {
		return 0, err
	}
	req := &appendReq{ctx: ctx, entry: d, data: data, done: make(chan struct{})}
	select {
	case <-l.done:
		return 0, ErrStopped
	default:
	}
	select {
	case l.reqs <- req:
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %v", consent.ErrUnavailable, ctx.Err())
	case <-l.done:
		return 0, ErrStopped
	}
	select {
	case <-req.done:
		return req.index, req.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %v", consent.ErrUnavailable, ctx.Err())
	case <-l.done:
		// The writer stopped; it may have finished this entry first.
		select {
		case <-req.done:
			return req.index, req.err
		default:
			return 0, ErrStopped
		}
	}
}

// writer takes queued entries in batches and writes each batch durably in
// one step. The batch is whatever arrived while the previous write was in
// flight (plus, optionally, a short window), which is group commit.
func (l *Log) writer(ctx context.Context) {
	defer close(l.done)
	cache := newHashCache(4096)
	size := int64(-1)
	for {
		var first *appendReq
		select {
		case first = <-l.reqs:
		case <-ctx.Done():
			l.drain(ErrStopped)
			return
		}
		batch := l.collect(first)
		// An entry whose caller has given up is dropped, not written: its
		// read was refused, so the log must not claim it happened.
		live := batch[:0]
		for _, r := range batch {
			if r.ctx.Err() != nil {
				r.err = fmt.Errorf("%w: %v", consent.ErrUnavailable, r.ctx.Err())
				close(r.done)
				continue
			}
			live = append(live, r)
		}
		batch = live
		if len(batch) == 0 {
			continue
		}
		var err error
		size, err = l.commit(ctx, batch, size, cache)
		for _, r := range batch {
			if err != nil {
				r.err = err
			}
			close(r.done)
		}
	}
}

// collect gathers what is queued behind first, up to MaxBatch, waiting at
// most Window for more.
func (l *Log) collect(first *appendReq) []*appendReq {
	batch := []*appendReq{first}
	if l.cfg.Window <= 0 {
		for len(batch) < l.cfg.MaxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
			default:
				return batch
			}
		}
		return batch
	}
	timer := time.NewTimer(l.cfg.Window)
	defer timer.Stop()
	for len(batch) < l.cfg.MaxBatch {
		select {
		case r := <-l.reqs:
			batch = append(batch, r)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// commit writes batch at the end of the log, retrying if another instance
// appended first. It returns the new size (or -1 if unknown).
func (l *Log) commit(ctx context.Context, batch []*appendReq, size int64, cache *hashCache) (int64, error) {
	for attempt := 0; attempt < 10; attempt++ {
		if size < 0 {
			var err error
			if size, err = l.store.LogSize(ctx); err != nil {
				return -1, err
			}
		}
		entries := make([]consent.LogEntry, len(batch))
		var hashes []consent.StoredHash
		pending := map[int64]tlog.Hash{}
		reader := l.reader(ctx, cache, pending)
		for i, r := range batch {
			n := size + int64(i)
			hs, err := tlog.StoredHashes(n, r.data, reader)
			if err != nil {
				return -1, err
			}
			base := tlog.StoredHashIndex(0, n)
			for j, h := range hs {
				pending[base+int64(j)] = h
				hashes = append(hashes, consent.StoredHash{Index: base + int64(j), Hash: h})
			}
			entries[i] = consent.EntryFor(n, r.entry, r.data)
			r.index = n
		}
		err := l.store.AppendLog(ctx, size, entries, hashes)
		if errors.Is(err, consent.ErrConflict) {
			size = -1 // another writer got there; learn the new end and redo
			continue
		}
		if err != nil {
			return -1, err
		}
		for k, h := range pending {
			cache.put(k, h)
		}
		return size + int64(len(batch)), nil
	}
	return -1, fmt.Errorf("%w: log append kept conflicting", consent.ErrUnavailable)
}

func (l *Log) drain(err error) {
	for {
		select {
		case r := <-l.reqs:
			r.err = err
			close(r.done)
		default:
			return
		}
	}
}

// reader reads tree hashes from pending, then the cache, then the store.
func (l *Log) reader(ctx context.Context, cache *hashCache, pending map[int64]tlog.Hash) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var missing []int64
		var at []int
		for i, x := range indexes {
			if h, ok := pending[x]; ok {
				out[i] = h
			} else if h, ok := cache.get(x); ok {
				out[i] = h
			} else {
				missing = append(missing, x)
				at = append(at, i)
			}
		}
		if len(missing) > 0 {
			got, err := l.store.LogHashes(ctx, missing)
			if err != nil {
				return nil, err
			}
			for j, h := range got {
				out[at[j]] = h
				cache.put(missing[j], h)
			}
		}
		return out, nil
	})
}

// checkpointer signs a new checkpoint every CheckpointEvery while the log
// grows.
func (l *Log) checkpointer(ctx context.Context) {
	t := time.NewTicker(l.cfg.CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, _, err := l.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				l.logger.Warn("checkpoint failed", slog.String("error", err.Error()))
			}
		}
	}
}

// Checkpoint returns the latest signed checkpoint, signing a new one first
// if the log has grown since. Any two checkpoints of the same size agree,
// because the root is computed from the stored tree.
func (l *Log) Checkpoint(ctx context.Context) (int64, []byte, error) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	size, err := l.store.LogSize(ctx)
	if err != nil {
		return 0, nil, err
	}
	latest, signed, err := l.store.LatestCheckpoint(ctx)
	if err != nil && !errors.Is(err, consent.ErrNotFound) {
		return 0, nil, err
	}
	if err == nil && latest >= size {
		return latest, signed, nil
	}
	root, err := l.treeHash(ctx, size)
	if err != nil {
		return 0, nil, err
	}
	signed, err = note.Sign(&note.Note{Text: Checkpoint{Origin: l.cfg.Origin, Size: size, Root: root}.Text()}, l.signer)
	if err != nil {
		return 0, nil, err
	}
	if err := l.store.PutCheckpoint(ctx, size, signed); err != nil {
		return 0, nil, err
	}
	l.lastSigned = time.Now()
	// Another instance may have stored this size first; theirs stands.
	signed, err = l.store.Checkpoint(ctx, size)
	return size, signed, err
}

// onDemandEvery bounds how often a request from outside can make this
// instance sign a checkpoint.
const onDemandEvery = 10 * time.Second

// Latest returns the newest signed checkpoint. It signs a new one first only
// if there is none yet or this instance has not signed one for a while, so
// anonymous callers cannot make Sayso sign and write at will.
func (l *Log) Latest(ctx context.Context) (int64, []byte, error) {
	l.cpMu.Lock()
	recent := time.Since(l.lastSigned) < onDemandEvery
	l.cpMu.Unlock()
	if recent {
		size, signed, err := l.store.LatestCheckpoint(ctx)
		if err == nil {
			return size, signed, nil
		}
		if !errors.Is(err, consent.ErrNotFound) {
			return 0, nil, err
		}
	}
	return l.Checkpoint(ctx)
}

func (l *Log) treeHash(ctx context.Context, size int64) (tlog.Hash, error) {
	if size == 0 {
		return emptyRoot, nil
	}
	return tlog.TreeHash(size, l.reader(ctx, nil, nil))
}

// Proof shows that entry index is in the tree of treeSize entries, which must
// have a checkpoint. treeSize 0 means the latest checkpoint.
type Proof struct {
	Index      int64
	TreeSize   int64
	LeafHash   tlog.Hash
	Hashes     tlog.RecordProof
	Checkpoint []byte
}

// Prove returns the inclusion proof of index in the checkpointed tree of
// treeSize. Errors: ErrNotFound (no such entry or checkpoint), ErrInvalid.
func (l *Log) Prove(ctx context.Context, index, treeSize int64) (Proof, error) {
	var signed []byte
	var err error
	if treeSize == 0 {
		treeSize, signed, err = l.Latest(ctx)
	} else {
		signed, err = l.store.Checkpoint(ctx, treeSize)
	}
	if err != nil {
		return Proof{}, err
	}
	if index < 0 || index >= treeSize {
		return Proof{}, consent.Invalid("index", "is not in a tree of that size")
	}
	r := l.reader(ctx, nil, nil)
	leaf, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		return Proof{}, err
	}
	p, err := tlog.ProveRecord(treeSize, index, r)
	if err != nil {
		return Proof{}, err
	}
	return Proof{Index: index, TreeSize: treeSize, LeafHash: leaf[0], Hashes: p, Checkpoint: signed}, nil
}

// hashCache keeps recently used tree hashes; appends mostly need the ones
// just written and the few on the tree's right edge.
type hashCache struct {
	mu  sync.Mutex
	max int
	m   map[int64]tlog.Hash
}

func newHashCache(max int) *hashCache { return &hashCache{max: max, m: make(map[int64]tlog.Hash, max)} }

func (c *hashCache) get(k int64) (tlog.Hash, bool) {
	if c == nil {
		return tlog.Hash{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[k]
	return h, ok
}

func (c *hashCache) put(k int64, h tlog.Hash) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Keep the newest half: the right edge of the tree lives there.
		for x := range c.m {
			if x < k-int64(c.max/2) {
				delete(c.m, x)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = h
}
