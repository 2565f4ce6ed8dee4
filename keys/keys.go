// Package keys holds Sayso's secrets on disk: the key that seals browser
// state, the Ed25519 key that signs receipts and log checkpoints, and the
// development identity provider's key. Files are created on first start with
// 0600 permissions, and a file anyone else may read is refused.
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sayso/internal/durable"
)

// Keyring is the set of keys one Sayso instance uses.
type Keyring struct {
	dir     string
	Cookie  [32]byte           // seals short-lived browser state (AES-256-GCM)
	Signing ed25519.PrivateKey // receipts and checkpoints
	// Retired signing keys' public halves: still published, so what they
	// signed still verifies.
	Retired []ed25519.PublicKey
}

// Open loads the keys under dir, creating any that are missing.
func Open(dir string) (*Keyring, error) {
	if err := durable.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: create %s: %w", dir, err)
	}
	k := &Keyring{dir: dir}
	cookie, err := loadOrCreate(filepath.Join(dir, "cookie.key"), func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	if len(cookie) != 32 {
		return nil, fmt.Errorf("keys: %s holds %d bytes, want 32", filepath.Join(dir, "cookie.key"), len(cookie))
	}
	copy(k.Cookie[:], cookie)

	seed, err := loadOrCreate(filepath.Join(dir, "signing.ed25519"), func() ([]byte, error) {
		b := make([]byte, ed25519.SeedSize)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keys: %s holds %d bytes, want %d", filepath.Join(dir, "signing.ed25519"), len(seed), ed25519.SeedSize)
	}
	k.Signing = ed25519.NewKeyFromSeed(seed)
	retired, err := filepath.Glob(filepath.Join(dir, "signing-retired-*.ed25519"))
	if err != nil {
		return nil, err
	}
	for _, path := range retired {
		seed, err := loadOrCreate(path, nil)
		if err != nil {
			return nil, err
		}
		if len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("keys: %s is not an Ed25519 key", path)
		}
		k.Retired = append(k.Retired, ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	}
	return k, nil
}

// RotateSigning retires the current signing key (keeping its file, so its
// public key stays published) and makes a new one. Restart Sayso after it.
func (k *Keyring) RotateSigning() error {
	cur := filepath.Join(k.dir, "signing.ed25519")
	old := filepath.Join(k.dir, "signing-retired-"+keyID(k.Signing.Public().(ed25519.PublicKey))+".ed25519")
	if err := os.Rename(cur, old); err != nil {
		return fmt.Errorf("keys: retire signing key: %w", err)
	}
	fresh, err := Open(k.dir)
	if err != nil {
		return err
	}
	*k = *fresh
	return nil
}

// SigningPublicKeys lists the current key first, then the retired ones.
func (k *Keyring) SigningPublicKeys() []ed25519.PublicKey {
	return append([]ed25519.PublicKey{k.Signing.Public().(ed25519.PublicKey)}, k.Retired...)
}

// SigningKeyID names the signing key in JWKS and JWS headers: the base64url
// SHA-256 of its public key, so it is stable and changes with the key.
func (k *Keyring) SigningKeyID() string {
	return keyID(k.Signing.Public().(ed25519.PublicKey))
}

func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// DevIdentityKey returns the RSA key the development identity provider signs
// with, creating it on first use. Production never calls this.
func (k *Keyring) DevIdentityKey() (*rsa.PrivateKey, error) {
	der, err := loadOrCreate(filepath.Join(k.dir, "dev-idp.rsa"), func() ([]byte, error) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		return x509.MarshalPKCS1PrivateKey(key), nil
	})
	if err != nil {
		return nil, err
	}
	return x509.ParsePKCS1PrivateKey(der)
}

// loadOrCreate reads a PEM-wrapped secret, or makes one and writes it 0600.
func loadOrCreate(path string, make func() ([]byte, error)) ([]byte, error) {
	info, err := os.Stat(path)
	switch {
	case err == nil:
		if info.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("keys: %s has permissions %v; it must be readable by its owner only (chmod 600 %s)", path, info.Mode().Perm(), path)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("keys: read %s: %w", path, err)
		}
		block, _ := pem.Decode(raw)
		if block == nil {
			return nil, fmt.Errorf("keys: %s is not a PEM file", path)
		}
		return block.Bytes, nil
	case errors.Is(err, fs.ErrNotExist) && make != nil:
		b, err := make()
		if err != nil {
			return nil, fmt.Errorf("keys: generate %s: %w", path, err)
		}
		err = durable.WriteNew(path, pem.EncodeToMemory(&pem.Block{Type: "SAYSO SECRET", Bytes: b}))
		if errors.Is(err, fs.ErrExist) {
			// Another process made it meanwhile: use that one.
			return loadOrCreate(path, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("keys: create %s: %w", path, err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
}

// LogOrigin returns the disclosure log's name, fixed at first start so that
// checkpoints stay verifiable whatever address Sayso later runs at.
func (k *Keyring) LogOrigin(initial string) (string, error) {
	b, err := loadOrCreate(filepath.Join(k.dir, "log-origin"), func() ([]byte, error) { return []byte(initial), nil })
	return string(b), err
}
