package ledger

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// noteSigner signs checkpoints with an Ed25519 key held in memory, in the
// form golang.org/x/mod/sumdb/note expects. The key hash comes from the
// library's own verifier key, so signer and verifier always agree.
type noteSigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func (s *noteSigner) Name() string                    { return s.name }
func (s *noteSigner) KeyHash() uint32                 { return s.hash }
func (s *noteSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// newNoteKeys returns the signer and the verifier key text (name+hash+key)
// for key under name.
func newNoteKeys(name string, key ed25519.PrivateKey) (*noteSigner, string, error) {
	vkey, err := note.NewEd25519VerifierKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, "", err
	}
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, "", fmt.Errorf("ledger: unexpected verifier key form")
	}
	h, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, "", err
	}
	return &noteSigner{name: name, hash: uint32(h), key: key}, vkey, nil
}

// Checkpoint is the body of a C2SP tlog-checkpoint.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text is the checkpoint body as signed.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

var errCheckpoint = errors.New("ledger: not a checkpoint")

// ParseCheckpoint reads a checkpoint body: origin, size and root lines,
// then optional extension lines that are ignored.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, errCheckpoint
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("%w: bad size", errCheckpoint)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: bad root hash", errCheckpoint)
	}
	c := Checkpoint{Origin: lines[0], Size: size}
	copy(c.Root[:], root)
	return c, nil
}

// OpenCheckpoint checks a signed checkpoint against the verifier keys (the
// current one and any retired ones) and the expected origin, and returns its
// body.
func OpenCheckpoint(signed []byte, vkeys []string, origin string) (Checkpoint, error) {
	var vs []note.Verifier
	for _, vkey := range vkeys {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return Checkpoint{}, err
		}
		vs = append(vs, v)
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != origin {
		return Checkpoint{}, fmt.Errorf("%w: origin %q, want %q", errCheckpoint, c.Origin, origin)
	}
	return c, nil
}

// emptyRoot is the RFC 6962 hash of an empty tree: SHA-256 of nothing.
var emptyRoot = tlog.Hash{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}

// VerifierKey returns the note verifier key for checkpoints of the log
// named origin signed by pub.
func VerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	return note.NewEd25519VerifierKey(origin, pub)
}

// VerifierKeys returns the verifier keys for several public keys.
func VerifierKeys(origin string, pubs []ed25519.PublicKey) ([]string, error) {
	var out []string
	for _, pub := range pubs {
		v, err := VerifierKey(origin, pub)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
