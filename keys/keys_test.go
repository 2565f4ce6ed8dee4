package keys

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen_CreatesOwnerOnlyFilesAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k1, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(new) = %v, want nil", err)
	}
	if _, err := k1.DevIdentityKey(); err != nil {
		t.Fatalf("DevIdentityKey() = %v, want nil", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("files in key dir = %d, want 3", len(entries))
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("mode of %s = %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	k2, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(existing) = %v, want nil", err)
	}
	if !bytes.Equal(k1.Signing, k2.Signing) || k1.Cookie != k2.Cookie {
		t.Errorf("Open(existing) returned different keys, want the same")
	}
	if k1.SigningKeyID() != k2.SigningKeyID() {
		t.Errorf("SigningKeyID() = %q then %q, want stable", k1.SigningKeyID(), k2.SigningKeyID())
	}
}

func TestOpen_RefusesLoosePermissions(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "signing.ed25519"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Open(loose perms) = %v, want an error saying chmod 600", err)
	}
}
