package keys_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sayso/consent"
	"sayso/keys"
	"sayso/store/sqlite"
)

func newVault(t *testing.T, dir string, ttl time.Duration) (*keys.Vault, *keys.KEK, *sqlite.Store) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), nil, filepath.Join(dir, "sayso.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	kek, err := keys.OpenKEK(filepath.Join(dir, "kek.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	return keys.NewVault(kek, store, 1000, ttl, nil), kek, store
}

func TestVault_SealOpen(t *testing.T) {
	ctx := context.Background()
	v, _, _ := newVault(t, t.TempDir(), time.Minute)
	sealed, err := v.Seal(ctx, "amara", "holding|h1", []byte("14 Willow Road"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Open(ctx, "amara", "holding|h1", sealed); err != nil || string(got) != "14 Willow Road" {
		t.Fatalf("Open(round trip) = %q, %v, want the address", got, err)
	}
	changed := append([]byte{}, sealed...)
	changed[len(changed)-1] ^= 1
	tests := []struct {
		name, yp, record string
		data             []byte
	}{
		{"ChangedCiphertext", "amara", "holding|h1", changed},
		{"MovedToAnotherRecord", "amara", "holding|h2", sealed},
		{"MovedToAnotherYoungPerson", "leo", "holding|h1", sealed},
	}
	if _, err := v.Seal(ctx, "leo", "x", []byte("give Leo a key")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := v.Open(ctx, tt.yp, tt.record, tt.data); err == nil {
				t.Errorf("Open(%s) = %q, nil, want an error", tt.name, got)
			}
		})
	}
	t.Run("ErasedDoesNotOpen", func(t *testing.T) {
		if err := v.Erase(ctx, "amara"); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Open(ctx, "amara", "holding|h1", sealed); !errors.Is(err, consent.ErrErased) {
			t.Errorf("Open(after erase) = %v, want ErrErased", err)
		}
	})
}

func TestVault_RotationWhileReading(t *testing.T) {
	ctx := context.Background()
	v, kek, _ := newVault(t, t.TempDir(), 0) // no cache: every read unwraps
	sealed := map[string][]byte{}
	for i := range 60 {
		yp := fmt.Sprintf("yp-%02d", i)
		b, err := v.Seal(ctx, yp, "r", []byte(yp))
		if err != nil {
			t.Fatal(err)
		}
		sealed[yp] = b
	}
	var stop atomic.Bool
	var reads, failures atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && i < 100000; i++ {
				yp := fmt.Sprintf("yp-%02d", (i+w)%60)
				got, err := v.Open(ctx, yp, "r", sealed[yp])
				reads.Add(1)
				if err != nil || string(got) != yp {
					failures.Add(1)
					t.Errorf("Open(%s) during rotation = %q, %v", yp, got, err)
					return
				}
			}
		}()
	}
	for range 3 {
		if _, err := kek.Rotate(); err != nil {
			t.Fatal(err)
		}
		if n, err := v.Rewrap(ctx, nil); err != nil || n != 60 {
			t.Fatalf("Rewrap() = %d, %v, want 60, nil", n, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if reads.Load() == 0 || failures.Load() != 0 {
		t.Errorf("reads during rotation = %d with %d failures, want some and none", reads.Load(), failures.Load())
	}
}

func TestVault_InterruptedRotationResumes(t *testing.T) {
	ctx := context.Background()
	v, kek, store := newVault(t, t.TempDir(), 0)
	for i := range 100 {
		if _, err := v.Seal(ctx, fmt.Sprintf("yp-%03d", i), "r", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kek.Rotate(); err != nil {
		t.Fatal(err)
	}
	cut, cancel := context.WithCancel(ctx)
	n, err := v.Rewrap(cut, func(done int) {
		if done == 30 {
			cancel() // the operator's ^C
		}
	})
	if err == nil {
		t.Fatalf("Rewrap(cancelled) = %d, nil, want an error", n)
	}
	left, err := store.KeysNotWrappedBy(ctx, kek.PrimaryID(), "", 1000)
	if err != nil || len(left) == 0 || len(left) == 100 {
		t.Fatalf("keys left after the interruption = %d, %v, want some but not all", len(left), err)
	}
	if n, err := v.Rewrap(ctx, nil); err != nil || n != len(left) {
		t.Fatalf("Rewrap(resume) = %d, %v, want %d, nil", n, err, len(left))
	}
	if left, _ := store.KeysNotWrappedBy(ctx, kek.PrimaryID(), "", 1000); len(left) != 0 {
		t.Errorf("keys left after resuming = %d, want 0", len(left))
	}
	if _, err := kek.Retire(); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		yp := fmt.Sprintf("yp-%03d", i)
		b, _ := v.Seal(ctx, yp, "after", []byte(yp))
		if got, err := v.Open(ctx, yp, "after", b); err != nil || string(got) != yp {
			t.Errorf("Open(%s) after retiring the old key = %q, %v", yp, got, err)
		}
	}
}

func TestVault_ShredReachesOldCopies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v, _, _ := newVault(t, dir, 0)
	sealed, err := v.Seal(ctx, "amara", "holding|h1", []byte("14 Willow Road"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Seal(ctx, "leo", "holding|h2", []byte("3 Station Lane")); err != nil {
		t.Fatal(err)
	}
	// A backup taken before the erasure.
	backup := t.TempDir()
	copyFile(t, filepath.Join(dir, "sayso.db"), filepath.Join(backup, "sayso.db"))
	copyFile(t, filepath.Join(dir, "sayso.db-wal"), filepath.Join(backup, "sayso.db-wal"))
	if err := v.Erase(ctx, "amara"); err != nil {
		t.Fatal(err)
	}
	if err := v.Shred(ctx, nil); err != nil {
		t.Fatal(err)
	}
	old, err := sqlite.Open(ctx, nil, filepath.Join(backup, "sayso.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	kek, err := keys.OpenKEK(filepath.Join(dir, "kek.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	fromBackup := keys.NewVault(kek, old, 10, 0, nil)
	if got, err := fromBackup.Open(ctx, "amara", "holding|h1", sealed); err == nil {
		t.Errorf("Open(amara from a pre-erasure copy) = %q, nil, want an error", got)
	}
	if _, err := old.GetKey(ctx, "amara"); err != nil {
		t.Fatalf("the backup should still hold amara's wrapped key (that is the point): %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		if os.IsNotExist(err) {
			return
		}
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestKEK_RefusesLoosePermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek.json")
	if _, err := keys.OpenKEK(path, ""); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode of kek.json = %v, want 0600", info.Mode().Perm())
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.OpenKEK(path, ""); err == nil {
		t.Errorf("OpenKEK(0640) = nil, want a refusal")
	}
	if _, err := keys.OpenKEK(filepath.Join(t.TempDir(), "kek.json"), "hcvault://vault.example/transit/keys/sayso"); err == nil {
		t.Errorf("OpenKEK(KMS URI without a registered client) = nil, want an error naming the missing client")
	}
}
