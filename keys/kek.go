package keys

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/core/registry"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"sayso/internal/durable"
)

// KEK is the key-encryption key: a Tink AEAD keyset whose primary wraps new
// data-encryption keys and whose other keys still unwrap old ones until a
// rotation retires them.
//
// The keyset lives in a file under the keys folder. Without a KMS it is a
// cleartext Tink keyset (0600; looser permissions are refused). With a KMS
// URI (hcvault://..., gcp-kms://..., aws-kms://...) the file is encrypted by
// that KMS key through Tink's KMS client registry, so the file alone is
// useless; a KMS client for the URI's scheme must be registered at build
// time (see docs/SECURITY.md).
type KEK struct {
	path   string
	kmsURI string

	mu      sync.Mutex
	handle  *keyset.Handle
	aead    tink.AEAD
	modTime time.Time
}

// OpenKEK loads the KEK keyset at path, creating it with one AES-256-GCM key
// if it does not exist.
func OpenKEK(path, kmsURI string) (*KEK, error) {
	k := &KEK{path: path, kmsURI: kmsURI}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
		if err != nil {
			return nil, err
		}
		if err := k.write(h); err != nil {
			return nil, err
		}
	}
	if err := k.load(); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *KEK) master() (tink.AEAD, error) {
	if k.kmsURI == "" {
		return nil, nil
	}
	c, err := registry.GetKMSClient(k.kmsURI)
	if err != nil {
		return nil, fmt.Errorf("keys: no KMS client for %q is built into this Sayso: %w", k.kmsURI, err)
	}
	return c.GetAEAD(k.kmsURI)
}

// load reads the keyset file; the caller holds no lock or k.mu.
func (k *KEK) load() error {
	info, err := os.Stat(k.path)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("keys: %s has permissions %v; it must be readable by its owner only (chmod 600 %s)", k.path, info.Mode().Perm(), k.path)
	}
	raw, err := os.ReadFile(k.path)
	if err != nil {
		return fmt.Errorf("keys: read %s: %w", k.path, err)
	}
	master, err := k.master()
	if err != nil {
		return err
	}
	var h *keyset.Handle
	if master == nil {
		h, err = insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(raw)))
	} else {
		h, err = keyset.Read(keyset.NewJSONReader(bytes.NewReader(raw)), master)
	}
	if err != nil {
		return fmt.Errorf("keys: read key-encryption keyset %s: %w", k.path, err)
	}
	a, err := aead.New(h)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.handle, k.aead, k.modTime = h, a, info.ModTime()
	k.mu.Unlock()
	return nil
}

// write stores h atomically: a temporary file, fsync, rename, fsync dir.
func (k *KEK) write(h *keyset.Handle) error {
	var buf bytes.Buffer
	master, err := k.master()
	if err != nil {
		return err
	}
	if master == nil {
		err = insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf))
	} else {
		err = h.Write(keyset.NewJSONWriter(&buf), master)
	}
	if err != nil {
		return err
	}
	if err := durable.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return err
	}
	return durable.Replace(k.path, buf.Bytes())
}

// refresh reloads the keyset if another process (sayso keys rotate) has
// replaced the file since it was read.
func (k *KEK) refresh() {
	info, err := os.Stat(k.path)
	if err != nil {
		return
	}
	k.mu.Lock()
	changed := !info.ModTime().Equal(k.modTime)
	k.mu.Unlock()
	if changed {
		_ = k.load()
	}
}

func (k *KEK) current() (tink.AEAD, uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.aead, k.handle.KeysetInfo().GetPrimaryKeyId()
}

// PrimaryID is the key id that wraps new keys.
func (k *KEK) PrimaryID() uint32 {
	_, id := k.current()
	return id
}

// Rotate adds a new AES-256-GCM key and makes it primary. Old keys still
// unwrap until Retire.
func (k *KEK) Rotate() (uint32, error) {
	k.mu.Lock()
	m := keyset.NewManagerFromHandle(k.handle)
	k.mu.Unlock()
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return 0, err
	}
	if err := m.SetPrimary(id); err != nil {
		return 0, err
	}
	h, err := m.Handle()
	if err != nil {
		return 0, err
	}
	if err := k.write(h); err != nil {
		return 0, err
	}
	return id, k.load()
}

// Retire deletes every key but the primary. Anything still wrapped by them
// (including copies in old backups) can never be unwrapped again.
func (k *KEK) Retire() (int, error) {
	k.mu.Lock()
	h := k.handle
	k.mu.Unlock()
	m := keyset.NewManagerFromHandle(h)
	primary := h.KeysetInfo().GetPrimaryKeyId()
	n := 0
	for _, info := range h.KeysetInfo().GetKeyInfo() {
		if info.GetKeyId() != primary {
			if err := m.Delete(info.GetKeyId()); err != nil {
				return n, err
			}
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	nh, err := m.Handle()
	if err != nil {
		return 0, err
	}
	if err := k.write(nh); err != nil {
		return 0, err
	}
	return n, k.load()
}

// KeyIDs lists the ids of every key in the keyset.
func (k *KEK) KeyIDs() []uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var ids []uint32
	for _, info := range k.handle.KeysetInfo().GetKeyInfo() {
		ids = append(ids, info.GetKeyId())
	}
	return ids
}

// IsKMSURI reports whether s names a KMS key Tink understands.
func IsKMSURI(s string) bool {
	for _, p := range []string{"hcvault://", "gcp-kms://", "aws-kms://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
