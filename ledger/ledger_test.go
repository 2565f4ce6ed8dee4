package ledger_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"sayso/consent"
	"sayso/internal/storetestenv"
	"sayso/keys"
	"sayso/ledger"
	"sayso/store/sqlite"
)

const origin = "test.sayso/disclosures"

// openStore opens the embedded store at path, for the benchmarks; the tests
// open theirs through storetestenv, on every backend.
func openStore(t testing.TB, path string) consent.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), nil, path)
	if err != nil {
		t.Fatalf("sqlite.Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startLog(t testing.TB, store consent.Store, key ed25519.PrivateKey, cfg ledger.Config, kekPath ...string) *ledger.Log {
	t.Helper()
	if cfg.Origin == "" {
		cfg.Origin = origin
	}
	l, err := ledger.New(nil, store, sealerFor(t, store, append(kekPath, "")[0]), key, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.Run(ctx)
	t.Cleanup(func() { cancel(); l.Wait() })
	return l
}

// sealerFor is a real vault over the store, with a KEK in a temporary folder.
func sealerFor(t testing.TB, store consent.KeyStore, kekPath string) consent.Sealer {
	t.Helper()
	if kekPath == "" {
		kekPath = filepath.Join(t.TempDir(), "kek.json")
	}
	kek, err := keys.OpenKEK(kekPath, "")
	if err != nil {
		t.Fatal(err)
	}
	return keys.NewVault(kek, store, 100, time.Minute, nil)
}

func newKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func entry(i int) consent.Disclosure {
	return consent.Disclosure{
		At: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second), ActorID: "sam", ActorName: "Sam Patel",
		ActorRole: consent.RoleSocialWorker, OrganisationID: "riverside-council", YoungPersonID: fmt.Sprintf("yp-%d", i%7),
		Category: "address", Purpose: "home-visit", LawfulBasis: consent.BasisConsent, GrantID: "g-1",
		Channel: consent.ChannelAPI, Outcome: consent.OutcomeDisclosed, Reason: consent.ReasonGranted,
	}
}

func verify(t *testing.T, store consent.LogStore, key ed25519.PrivateKey) ledger.Report {
	t.Helper()
	vkey, err := ledger.VerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ledger.Verify(context.Background(), store, []string{vkey}, origin, nil)
	if err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	return rep
}

func TestLog_ConcurrentWritersGetEveryIndexOnce(t *testing.T) {
	tests := []struct {
		name      string
		instances int // separate Log and Store handles over one store
	}{
		{"OneInstance", 1},
		{"TwoInstances", 2},
	}
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				place := backend.New(t)
				key := newKey(t)
				kekPath := filepath.Join(t.TempDir(), "kek.json") // instances share keys as they share the store
				var logs []*ledger.Log
				var stores []consent.Store
				for range tt.instances {
					s := place.Open(t)
					stores = append(stores, s)
					logs = append(logs, startLog(t, s, key, ledger.Config{MaxBatch: 16}, kekPath))
				}
				const writers, each = 16, 40
				var mu sync.Mutex
				seen := map[int64]bool{}
				var wg sync.WaitGroup
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						l := logs[w%len(logs)]
						for i := range each {
							idx, err := l.Record(context.Background(), entry(w*each+i))
							if err != nil {
								t.Errorf("Record() = %v", err)
								return
							}
							mu.Lock()
							if seen[idx] {
								t.Errorf("index %d given out twice", idx)
							}
							seen[idx] = true
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				size, err := stores[0].LogSize(context.Background())
				if err != nil || size != writers*each {
					t.Fatalf("LogSize() = %d, %v, want %d", size, err, writers*each)
				}
				for i := range int64(writers * each) {
					if !seen[i] {
						t.Errorf("index %d never given out", i)
					}
				}
				if _, _, err := logs[0].Checkpoint(context.Background()); err != nil {
					t.Fatal(err)
				}
				if rep := verify(t, stores[0], key); !rep.OK() {
					t.Errorf("Verify() = %+v, want intact", rep)
				}
			})
		}
	})
}

func TestLog_CheckpointsAndProofs(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		key := newKey(t)
		l := startLog(t, store, key, ledger.Config{})
		ctx := context.Background()
		vkey, _ := ledger.VerifierKey(origin, key.Public().(ed25519.PublicKey))
		verifier, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int64
		for round := range 3 {
			for i := range 5 + round*7 {
				if _, err := l.Record(ctx, entry(i)); err != nil {
					t.Fatal(err)
				}
			}
			size, signed, err := l.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n, err := note.Open(signed, note.VerifierList(verifier))
			if err != nil {
				t.Fatalf("note.Open(checkpoint) = %v", err)
			}
			c, err := ledger.ParseCheckpoint(n.Text)
			if err != nil || c.Origin != origin || c.Size != size {
				t.Fatalf("checkpoint = %+v, %v, want origin %q size %d", c, err, origin, size)
			}
			sizes = append(sizes, size)
			// Every entry is provably in every tree that contains it.
			for _, ts := range sizes {
				signedAt, err := store.Checkpoint(ctx, ts)
				if err != nil {
					t.Fatal(err)
				}
				n, _ := note.Open(signedAt, note.VerifierList(verifier))
				cp, _ := ledger.ParseCheckpoint(n.Text)
				for idx := range ts {
					p, err := l.Prove(ctx, idx, ts)
					if err != nil {
						t.Fatalf("Prove(%d, %d) = %v", idx, ts, err)
					}
					if err := tlog.CheckRecord(p.Hashes, ts, cp.Root, idx, p.LeafHash); err != nil {
						t.Errorf("CheckRecord(%d in %d) = %v, want nil", idx, ts, err)
					}
					if idx > 0 {
						if err := tlog.CheckRecord(p.Hashes, ts, cp.Root, idx-1, p.LeafHash); err == nil {
							t.Errorf("CheckRecord(proof of %d claimed for %d) = nil, want an error", idx, idx-1)
						}
					}
				}
			}
		}
		if _, err := l.Prove(ctx, 0, sizes[0]+1); err == nil {
			t.Errorf("Prove(0, unsigned size) = nil, want an error")
		}
		if _, err := l.Prove(ctx, sizes[0], sizes[0]); err == nil {
			t.Errorf("Prove(index = size) = nil, want an error")
		}
		// Checkpoints are consistent: the later tree extends the earlier.
		for i := 1; i < len(sizes); i++ {
			old := openRoot(t, store, verifier, sizes[i-1])
			cur := openRoot(t, store, verifier, sizes[i])
			proof, err := tlog.ProveTree(sizes[i], sizes[i-1], storeReader(store))
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(proof, sizes[i], cur, sizes[i-1], old); err != nil {
				t.Errorf("CheckTree(%d -> %d) = %v, want nil", sizes[i-1], sizes[i], err)
			}
		}
		if rep := verify(t, store, key); !rep.OK() || rep.Checkpoints != 3 {
			t.Errorf("Verify() = %+v, want intact with 3 checkpoints", rep)
		}
	})
}

func openRoot(t *testing.T, store consent.LogStore, v note.Verifier, size int64) tlog.Hash {
	signed, err := store.Checkpoint(context.Background(), size)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledger.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	return c.Root
}

func storeReader(store consent.LogStore) tlog.HashReader {
	return tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		hs, err := store.LogHashes(context.Background(), ix)
		out := make([]tlog.Hash, len(hs))
		for i := range hs {
			out[i] = hs[i]
		}
		return out, err
	})
}

func TestCheckpoint_ParseRejectsMalformed(t *testing.T) {
	good := ledger.Checkpoint{Origin: origin, Size: 3}.Text()
	if _, err := ledger.ParseCheckpoint(good); err != nil {
		t.Fatalf("ParseCheckpoint(good) = %v", err)
	}
	for _, text := range []string{"", origin + "\n", origin + "\n-1\nAAAA\n", origin + "\n01\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", origin + "\n3\nnot-base64\n", "\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"} {
		if _, err := ledger.ParseCheckpoint(text); err == nil {
			t.Errorf("ParseCheckpoint(%q) = nil, want an error", text)
		}
	}
}

func TestLog_RecordAfterStopFails(t *testing.T) {
	storetestenv.Run(t, func(t *testing.T, backend storetestenv.Backend) {
		store := backend.Open(t)
		l, err := ledger.New(nil, store, sealerFor(t, store, ""), newKey(t), ledger.Config{Origin: origin})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		l.Run(ctx)
		cancel()
		l.Wait()
		if _, err := l.Record(context.Background(), entry(1)); err == nil {
			t.Errorf("Record() after stop = nil, want an error")
		}
	})
}
