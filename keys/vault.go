package keys

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"sayso/consent"
)

// Vault seals each young person's information under their own
// data-encryption key (DEK), a Tink AES-256-GCM keyset stored wrapped by the
// KEK. Associated data binds every ciphertext to the young person and the
// record it belongs to, so a ciphertext moved elsewhere does not open.
// Deleting a young person's DEK erases everything sealed under it.
type Vault struct {
	kek   *KEK
	store consent.KeyStore
	now   func() time.Time

	mu    sync.Mutex
	max   int
	ttl   time.Duration // how long an unwrapped DEK is trusted before the store is asked again
	cache map[string]*list.Element
	lru   *list.List
}

type dekEntry struct {
	ypID    string
	aead    tink.AEAD
	fetched time.Time
}

// NewVault returns a vault keeping at most maxCached unwrapped keys, each
// for at most ttl, so an erasure on another instance takes hold within ttl.
func NewVault(kek *KEK, store consent.KeyStore, maxCached int, ttl time.Duration, now func() time.Time) *Vault {
	if now == nil {
		now = time.Now
	}
	return &Vault{kek: kek, store: store, now: now, max: max(1, maxCached), ttl: ttl, cache: map[string]*list.Element{}, lru: list.New()}
}

var _ consent.Sealer = (*Vault)(nil)

func dekAD(ypID string) []byte { return []byte("sayso dek\x00" + ypID) }

func recordAD(ypID, record string) []byte { return []byte("sayso record\x00" + ypID + "\x00" + record) }

// Seal encrypts plain for ypID's record, creating their DEK if need be.
func (v *Vault) Seal(ctx context.Context, ypID, record string, plain []byte) ([]byte, error) {
	a, err := v.dek(ctx, ypID, true)
	if err != nil {
		return nil, err
	}
	return a.Encrypt(plain, recordAD(ypID, record))
}

// Open decrypts what Seal made for the same young person and record.
// consent.ErrErased means the young person's key is gone.
func (v *Vault) Open(ctx context.Context, ypID, record string, sealed []byte) ([]byte, error) {
	a, err := v.dek(ctx, ypID, false)
	if err != nil {
		return nil, err
	}
	plain, err := a.Decrypt(sealed, recordAD(ypID, record))
	if err != nil {
		return nil, fmt.Errorf("keys: %w: sealed data does not open for this record", consent.ErrInvalid)
	}
	return plain, nil
}

// Erase replaces ypID's DEK with a tombstone: what was sealed under it
// cannot be opened again from this store, and nothing new can be sealed for
// them. Copies of the store made earlier stay openable only until the KEK
// that wrapped the key is retired (see Shred).
func (v *Vault) Erase(ctx context.Context, ypID string) error {
	for attempt := 0; ; attempt++ {
		if err := v.store.DeleteKey(ctx, ypID); err != nil {
			return err
		}
		err := v.store.PutKey(ctx, consent.WrappedKey{YoungPersonID: ypID, Wrapped: []byte{}, CreatedAt: consent.Millis(v.now())})
		if err == nil {
			break
		}
		// A key made in between: delete that too.
		if !errors.Is(err, consent.ErrConflict) || attempt > 10 {
			return err
		}
	}
	v.mu.Lock()
	if el, ok := v.cache[ypID]; ok {
		v.lru.Remove(el)
		delete(v.cache, ypID)
	}
	v.mu.Unlock()
	return nil
}

func (v *Vault) dek(ctx context.Context, ypID string, create bool) (tink.AEAD, error) {
	now := v.now()
	v.mu.Lock()
	if el, ok := v.cache[ypID]; ok {
		e := el.Value.(*dekEntry)
		if now.Sub(e.fetched) < v.ttl {
			v.lru.MoveToFront(el)
			v.mu.Unlock()
			return e.aead, nil
		}
		v.lru.Remove(el)
		delete(v.cache, ypID)
	}
	v.mu.Unlock()

	wk, err := v.store.GetKey(ctx, ypID)
	if errors.Is(err, consent.ErrNotFound) {
		if !create {
			return nil, consent.ErrErased
		}
		wk, err = v.newKey(ctx, ypID)
	}
	if err != nil {
		return nil, err
	}
	if len(wk.Wrapped) == 0 {
		return nil, consent.ErrErased // a tombstone
	}
	a, err := v.unwrap(wk)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.cache[ypID] = v.lru.PushFront(&dekEntry{ypID: ypID, aead: a, fetched: now})
	for v.lru.Len() > v.max {
		old := v.lru.Back()
		v.lru.Remove(old)
		delete(v.cache, old.Value.(*dekEntry).ypID)
	}
	v.mu.Unlock()
	return a, nil
}

// newKey makes and stores a DEK; if another writer stored one first, theirs
// is used.
func (v *Vault) newKey(ctx context.Context, ypID string) (consent.WrappedKey, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return consent.WrappedKey{}, err
	}
	wk, err := v.wrap(h, ypID)
	if err != nil {
		return consent.WrappedKey{}, err
	}
	wk.CreatedAt = consent.Millis(v.now())
	err = v.store.PutKey(ctx, wk)
	if errors.Is(err, consent.ErrConflict) {
		return v.store.GetKey(ctx, ypID)
	}
	return wk, err
}

func (v *Vault) wrap(h *keyset.Handle, ypID string) (consent.WrappedKey, error) {
	v.kek.refresh()
	kek, id := v.kek.current()
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), kek, dekAD(ypID)); err != nil {
		return consent.WrappedKey{}, err
	}
	return consent.WrappedKey{YoungPersonID: ypID, Wrapped: buf.Bytes(), KEKID: id}, nil
}

func (v *Vault) unwrapHandle(wk consent.WrappedKey) (*keyset.Handle, error) {
	kek, _ := v.kek.current()
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wk.Wrapped)), kek, dekAD(wk.YoungPersonID))
	if err != nil {
		// The keyset file may have been rotated by another process.
		v.kek.refresh()
		kek, _ = v.kek.current()
		if h, err = keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wk.Wrapped)), kek, dekAD(wk.YoungPersonID)); err != nil {
			return nil, fmt.Errorf("keys: unwrap the key of a young person: %w", err)
		}
	}
	return h, nil
}

func (v *Vault) unwrap(wk consent.WrappedKey) (tink.AEAD, error) {
	h, err := v.unwrapHandle(wk)
	if err != nil {
		return nil, err
	}
	return aead.New(h)
}

// Rewrap rewraps every DEK not yet wrapped by the KEK's primary key. It is
// resumable: what is done stays done, and running it again continues. Reads
// and writes go on meanwhile, since the KEK still holds the old keys.
func (v *Vault) Rewrap(ctx context.Context, progress func(done int)) (int, error) {
	primary := v.kek.PrimaryID()
	done, after := 0, ""
	for {
		batch, err := v.store.KeysNotWrappedBy(ctx, primary, after, 500)
		if err != nil {
			return done, err
		}
		if len(batch) == 0 {
			return done, nil
		}
		for _, wk := range batch {
			after = wk.YoungPersonID
			if len(wk.Wrapped) == 0 {
				continue // an erased young person's tombstone
			}
			h, err := v.unwrapHandle(wk)
			if err != nil {
				return done, err
			}
			nw, err := v.wrap(h, wk.YoungPersonID)
			if err != nil {
				return done, err
			}
			nw.CreatedAt = wk.CreatedAt
			if err := v.store.ReplaceKey(ctx, nw, wk.KEKID); err != nil && !errors.Is(err, consent.ErrConflict) && !errors.Is(err, consent.ErrNotFound) {
				return done, err
			}
			done++
			if progress != nil {
				progress(done)
			}
		}
	}
}

// Unfinished reports whether some key is still wrapped by a KEK key other
// than the primary: a rotation to resume.
func (v *Vault) Unfinished(ctx context.Context) (bool, error) {
	after := ""
	for {
		batch, err := v.store.KeysNotWrappedBy(ctx, v.kek.PrimaryID(), after, 500)
		if err != nil || len(batch) == 0 {
			return false, err
		}
		for _, wk := range batch {
			if len(wk.Wrapped) > 0 {
				return true, nil
			}
			after = wk.YoungPersonID
		}
	}
}

// Shred makes erasures reach old copies of the store: it rotates the KEK,
// rewraps every remaining DEK under the new key and then retires the old
// keys, so a wrapped DEK in a backup taken earlier can no longer be opened.
func (v *Vault) Shred(ctx context.Context, progress func(done int)) error {
	if _, err := v.kek.Rotate(); err != nil {
		return err
	}
	if _, err := v.Rewrap(ctx, progress); err != nil {
		return err
	}
	// A key added by another instance during the pass is caught here.
	if n, err := v.Rewrap(ctx, nil); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("keys: %d keys were added during the rotation; run it again before retiring", n)
	}
	_, err := v.kek.Retire()
	return err
}
