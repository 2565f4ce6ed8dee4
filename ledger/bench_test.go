package ledger_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"sayso/ledger"
)

// BenchmarkAppend measures durable appends on the embedded store: each
// Record returns only after its entry's transaction is fsynced. With one
// writer every entry is its own commit; with many, entries queued while a
// commit is in flight share the next one (group commit).
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			store := openStore(b, filepath.Join(b.TempDir(), "sayso.db"))
			l := startLog(b, store, newKey(b), ledger.Config{MaxBatch: 256})
			ctx := context.Background()
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(writers) // goroutines = writers × GOMAXPROCS
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				i := 0
				for pb.Next() {
					start := time.Now()
					if _, err := l.Record(ctx, entry(i)); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(start))
					i++
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			reportLatency(b, lat)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkProve measures one inclusion proof in a log of 10^6 entries
// (10^4 with -short). The seeded log is kept in the temp folder between runs.
func BenchmarkProve(b *testing.B) {
	n := int64(1_000_000)
	if testing.Short() {
		n = 10_000
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("sayso-bench-log-%d.db", n))
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // fixed, so a kept log stays valid
	store := openStore(b, path)
	// The log's keys live beside the kept database, so a later run can
	// still seal entries for the same young people.
	l, err := ledger.New(nil, store, sealerFor(b, store, path+".kek.json"), key, ledger.Config{Origin: origin, MaxBatch: 4096})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.Run(runCtx)
	b.Cleanup(func() { cancel(); l.Wait() })
	ctx := context.Background()
	size, err := store.LogSize(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if size < n {
		b.Logf("seeding %d entries into %s", n-size, path)
		var wg sync.WaitGroup
		work := make(chan int, 1024)
		for range 512 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					if _, err := l.Record(ctx, entry(i)); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for i := size; i < n; i++ {
			work <- int(i)
		}
		close(work)
		wg.Wait()
	}
	size, signed, err := l.Checkpoint(ctx)
	if err != nil {
		b.Fatal(err)
	}
	vkey, _ := ledger.VerifierKey(origin, key.Public().(ed25519.PublicKey))
	cp, err := ledger.OpenCheckpoint(signed, []string{vkey}, origin)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var lat []time.Duration
	i := int64(0)
	for b.Loop() {
		idx := (i * 7919) % size
		start := time.Now()
		p, err := l.Prove(ctx, idx, size)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if err := tlog.CheckRecord(p.Hashes, size, cp.Root, idx, p.LeafHash); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	reportLatency(b, lat)
	b.ReportMetric(float64(size), "entries")
}
