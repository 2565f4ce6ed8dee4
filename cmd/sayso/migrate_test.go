package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	mongodriver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/mod/sumdb/tlog"

	"sayso/consent"
	"sayso/internal/testenv"
	"sayso/internal/wire"
	"sayso/store/sqlite"
)

// sourceDir is a data folder filled the way Sayso fills one, through the
// API: the demo people, a request answered, grants given and one stopped,
// reads allowed and refused, a concern, a checkpoint, then more reads after
// it, so the log runs on past its last checkpoint.
func sourceDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	in := startInstance(t, dir)
	defer in.stop()
	amara, sam := in.signIn("amara"), in.signIn("sam")
	req := in.do(sam, http.MethodPost, "/v1/young-people/amara/requests", map[string]any{
		"categories": []string{"address", "phone"}, "purpose": "plan-support", "reason": "Planning our first meeting", "durationDays": 90})
	in.do(amara, http.MethodPost, "/v1/young-people/amara/requests/"+req["id"].(string)+"/decision", map[string]any{"approve": []string{"address"}, "message": "Only my address for now."})
	g := in.do(amara, http.MethodPost, "/v1/young-people/amara/grants", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit"})
	for range 5 {
		in.do(sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
	}
	in.do(amara, http.MethodDelete, "/v1/young-people/amara/grants/"+g["grant"].(map[string]any)["id"].(string), nil)
	if code := in.status(sam, "/v1/young-people/amara/records/address?purpose=home-visit"); code != http.StatusForbidden {
		t.Fatalf("read after the grant was stopped = %d, want 403", code)
	}
	if _, _, err := in.app.Log.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		in.do(sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=plan-support", nil)
	}
	// As the service stores it: the young person's words sealed.
	if err := in.app.Raw.CreateConcern(t.Context(), consent.Concern{ID: "concern-1", LogIndex: 2, YoungPersonID: "amara", RaisedBy: "amara",
		OrganisationID: "riverside-council", Message: "sealed-text:v1:AAAA", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// status is a GET's status code, whatever it is.
func (in *instance) status(c *http.Client, path string) int {
	in.t.Helper()
	resp, err := c.Get(in.url + path)
	if err != nil {
		in.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, envOf(nil), &out, &errOut)
	return code, out.String(), errOut.String()
}

// copyKeys puts the source's keys folder beside a copied store.
func copyKeys(t *testing.T, srcDir, dstDir string) {
	t.Helper()
	keys := copyDir(t, filepath.Join(srcDir, "keys"))
	if err := os.Rename(keys, filepath.Join(dstDir, "keys")); err != nil {
		t.Fatal(err)
	}
}

// verifyOK runs verify-log on dir and returns its report line.
func verifyOK(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCmd(t, append([]string{"verify-log", "--quiet"}, args...)...)
	if code != 0 || !strings.HasPrefix(out, "OK: ") {
		t.Fatalf("verify-log %v = %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), nil, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// snapshot is everything a store holds that migrate-store copies.
type snapshot struct {
	Records     []any
	Entries     []consent.LogEntry
	Hashes      [][32]byte
	Checkpoints map[int64]string
}

func takeSnapshot(t *testing.T, path string) snapshot {
	t.Helper()
	s := openSQLite(t, path)
	defer s.Close()
	ctx := t.Context()
	var snap snapshot
	if err := s.Export(ctx, func(v any) error {
		if _, ok := v.(consent.Session); !ok {
			snap.Records = append(snap.Records, v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	size, err := s.LogSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Entries, err = s.LogEntries(ctx, 0, size); err != nil {
		t.Fatal(err)
	}
	var idx []int64
	for x := range tlog.StoredHashIndex(0, size) {
		idx = append(idx, x)
	}
	if snap.Hashes, err = s.LogHashes(ctx, idx); err != nil {
		t.Fatal(err)
	}
	sizes, err := s.CheckpointSizes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap.Checkpoints = map[int64]string{}
	for _, n := range sizes {
		b, err := s.Checkpoint(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		snap.Checkpoints[n] = string(b)
	}
	return snap
}

func sameSnapshot(t *testing.T, got, want snapshot) {
	t.Helper()
	if len(got.Records) != len(want.Records) {
		t.Errorf("the copy holds %d records, the source %d", len(got.Records), len(want.Records))
	}
	for i := range min(len(got.Records), len(want.Records)) {
		if !reflect.DeepEqual(got.Records[i], want.Records[i]) {
			t.Errorf("record %d of the copy = %+v, want %+v", i, got.Records[i], want.Records[i])
		}
	}
	if !reflect.DeepEqual(got.Entries, want.Entries) {
		t.Errorf("the copy's log entries differ from the source's (%d entries, want %d)", len(got.Entries), len(want.Entries))
	}
	if !reflect.DeepEqual(got.Hashes, want.Hashes) {
		t.Errorf("the copy's tree hashes differ from the source's")
	}
	if !reflect.DeepEqual(got.Checkpoints, want.Checkpoints) {
		t.Errorf("the copy's checkpoints = %v, want %v", got.Checkpoints, want.Checkpoints)
	}
}

func TestMigrateStore_SQLiteToSQLite(t *testing.T) {
	src := sourceDir(t)
	dst := t.TempDir()
	code, out, errOut := runCmd(t, "migrate-store", "--from", filepath.Join(src, "sayso.db"), "--to", filepath.Join(dst, "sayso.db"), "--quiet")
	if code != 0 {
		t.Fatalf("migrate-store = %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, want := range []string{"Records: copied ", ", 0 were there already", "sessions (everyone signs in again)", "one-time values", "Disclosure log: ", "checkpoints", filepath.Join(src, "keys")} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate-store said %q, want it to mention %q", out, want)
		}
	}
	want := takeSnapshot(t, filepath.Join(src, "sayso.db"))
	if len(want.Entries) < 10 || len(want.Checkpoints) == 0 {
		t.Fatalf("the source has %d log entries and %d checkpoints; the test needs more", len(want.Entries), len(want.Checkpoints))
	}
	sameSnapshot(t, takeSnapshot(t, filepath.Join(dst, "sayso.db")), want)

	// Without the keys it was sealed under, Sayso refuses to start on the
	// copy rather than make new ones.
	if app, err := wire.Build(t.Context(), testenv.Logger(t), wire.Options{DataDir: dst, Dev: true, PublicURL: "http://127.0.0.1:1"}); err == nil {
		app.Close()
		t.Fatal("wire.Build on the copy without its keys = nil, want a refusal")
	} else if !strings.Contains(err.Error(), "copy the keys folder") {
		t.Errorf("wire.Build on the copy without its keys = %v, want it to say to copy the keys folder", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "keys", "kek.json")); err == nil {
		t.Fatal("the refused start made a new key-encryption keyset")
	}
	copyKeys(t, src, dst)
	if got, want := verifyOK(t, "--data-dir", dst), verifyOK(t, "--data-dir", src); got != want {
		t.Errorf("verify-log on the copy = %q, on the source %q", got, want)
	}

	// Running it again finds everything there.
	code, out, errOut = runCmd(t, "migrate-store", "--from", filepath.Join(src, "sayso.db"), "--to", filepath.Join(dst, "sayso.db"), "--quiet")
	if code != 0 || !strings.Contains(out, "Records: copied 0, ") || !strings.Contains(out, "(copied 0, ") {
		t.Errorf("migrate-store again = %d %q %q, want nothing copied", code, out, errOut)
	}

	// Sayso serves from the copy: what was sealed opens, the grant
	// approved on the source still stands, the stopped one stays stopped.
	in := startInstance(t, dst)
	sam := in.signIn("sam")
	if got := in.do(sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=plan-support", nil); !strings.Contains(toJSON(got), "Willow Road") {
		t.Errorf("Sam's read on the copy = %v, want Amara's address", got)
	}
	if code := in.status(sam, "/v1/young-people/amara/records/address?purpose=home-visit"); code != http.StatusForbidden {
		t.Errorf("Sam's read under the stopped grant on the copy = %d, want 403", code)
	}
	in.stop()

	// The copy's log has moved on, so it is no longer a prefix of the source's.
	code, _, errOut = runCmd(t, "migrate-store", "--from", filepath.Join(src, "sayso.db"), "--to", filepath.Join(dst, "sayso.db"), "--quiet")
	if code != 1 || !strings.Contains(errOut, "is not a copy of this log") {
		t.Errorf("migrate-store into a copy that moved on = %d %q, want 1 and a refusal", code, errOut)
	}
}

func TestMigrateStore_InterruptedAndResumed(t *testing.T) {
	src := sourceDir(t)
	srcDB := filepath.Join(src, "sayso.db")
	want := takeSnapshot(t, srcDB)
	old := migrateBatch
	migrateBatch = 4
	t.Cleanup(func() { migrateBatch = old })

	records, entries := int64(len(want.Records)), int64(len(want.Entries))
	// Sessions are visited too (and skipped): count them in.
	s := openSQLite(t, srcDB)
	all, err := s.ExportCount(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	sessions := all - records
	if entries < 3*migrateBatch {
		t.Fatalf("the source's log has %d entries; the test needs at least %d", entries, 3*migrateBatch)
	}
	for _, tc := range []struct {
		name string
		cut  int64 // cancel once this many steps are done
	}{
		{"FirstRecord", 1},
		{"MidRecords", records / 2},
		{"AfterRecords", all},
		{"MidLog", all + migrateBatch + 1},
		{"BeforeCheckpoints", all + entries},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := t.TempDir()
			dstDB := filepath.Join(dst, "sayso.db")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			from, to := openSQLite(t, srcDB), openSQLite(t, dstDB)
			var done int64
			_, err := migrateStore(ctx, from, to, migrateProgress{total: func(int64) {}, add: func(n int64) {
				if done += n; done >= tc.cut {
					cancel()
				}
			}})
			if err == nil || !errors.Is(ctx.Err(), context.Canceled) {
				t.Fatalf("migrateStore cancelled after %d steps = %v, want it stopped", tc.cut, err)
			}
			from.Close()
			to.Close()
			part := takeSnapshot(t, dstDB)
			if len(part.Records) == len(want.Records) && len(part.Entries) == len(want.Entries) && len(part.Checkpoints) == len(want.Checkpoints) {
				t.Fatalf("cancelled after %d steps, yet the whole store was copied: the test interrupts nothing", tc.cut)
			}
			if tc.name == "MidLog" && (len(part.Entries) == 0 || len(part.Entries) >= len(want.Entries) || int64(len(part.Entries))%migrateBatch != 0) {
				t.Errorf("cancelled in the log, the copy holds %d of %d entries, want whole batches of %d and not all", len(part.Entries), len(want.Entries), migrateBatch)
			}
			if tc.cut >= all && len(part.Records) != len(want.Records) {
				t.Errorf("cancelled after the records, the copy holds %d records, want all %d", len(part.Records), len(want.Records))
			}

			code, out, errOut := runCmd(t, "migrate-store", "--from", srcDB, "--to", dstDB, "--quiet")
			if code != 0 {
				t.Fatalf("resumed migrate-store = %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if tc.cut > records+sessions && !strings.Contains(out, "Records: copied 0, ") {
				t.Errorf("resumed after the records were copied, it said %q; want none copied again", out)
			}
			sameSnapshot(t, takeSnapshot(t, dstDB), want)
			copyKeys(t, src, dst)
			if got, want := verifyOK(t, "--data-dir", dst), verifyOK(t, "--data-dir", src); got != want {
				t.Errorf("verify-log on the resumed copy = %q, on the source %q", got, want)
			}
		})
	}
}

func TestMigrateStore_RefusesAnotherLog(t *testing.T) {
	a, b := seedLog(t, 12, 12), seedLog(t, 20, 20)
	aDB, bDB := filepath.Join(a, "sayso.db"), filepath.Join(b, "sayso.db")
	migrate := func(from, to string) (int, string) {
		code, _, errOut := runCmd(t, "migrate-store", "--from", from, "--to", to, "--quiet")
		return code, errOut
	}

	dst := filepath.Join(t.TempDir(), "sayso.db")
	if code, errOut := migrate(aDB, dst); code != 0 {
		t.Fatalf("migrate a = %d %s", code, errOut)
	}
	before := takeSnapshot(t, dst)
	if code, errOut := migrate(bDB, dst); code != 1 || !strings.Contains(errOut, "differs from the source's at entry 11") {
		t.Errorf("migrate b into a's copy = %d %q, want a refusal naming entry 11", code, errOut)
	}
	sameSnapshot(t, takeSnapshot(t, dst), before) // nothing written

	dst2 := filepath.Join(t.TempDir(), "sayso.db")
	if code, errOut := migrate(bDB, dst2); code != 0 {
		t.Fatalf("migrate b = %d %s", code, errOut)
	}
	if code, errOut := migrate(aDB, dst2); code != 1 || !strings.Contains(errOut, "has 20 entries and the source's only 12") {
		t.Errorf("migrate a into b's longer copy = %d %q, want a refusal", code, errOut)
	}

	// A record changed in the source after it was copied is not silently
	// left behind.
	s := openSQLite(t, aDB)
	if err := s.EndMembership(t.Context(), "m-priya", time.Now()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if code, errOut := migrate(aDB, dst); code != 1 || !strings.Contains(errOut, "records in the destination differ from the source's: membership m-priya (1 in all)") {
		t.Errorf("migrate after a membership ended in the source = %d %q, want a refusal naming it", code, errOut)
	}
}

func TestMigrateStore_Refusals(t *testing.T) {
	src := seedLog(t, 1)
	srcDB := filepath.Join(src, "sayso.db")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"NoDestination", []string{"--from", srcDB}, []string{"say where to copy to"}},
		{"NoSource", []string{"--from", filepath.Join(t.TempDir(), "missing.db"), "--to", filepath.Join(t.TempDir(), "x.db")}, []string{"there is no Sayso store at"}},
		{"SameFile", []string{"--from", srcDB, "--to", filepath.Join(src, ".", "sayso.db")}, []string{"the same file"}},
		{"WeakWriteConcern", []string{"--from", srcDB, "--to", "mongodb://sayso:s3cret@db1.example.org/?w=1"}, []string{"--to: mongodb:", "w=1", "before a majority"}},
		{"NoJournal", []string{"--from", srcDB, "--to", "mongodb://db1.example.org/?journal=false"}, []string{"journal=false"}},
		{"WrongScheme", []string{"--from", srcDB, "--to", "postgres://db1.example.org/sayso"}, []string{`not "postgres://"`}},
		{"BadDatabase", []string{"--from", srcDB, "--to", "mongodb://db1.example.org/", "--store-database", "my.db"}, []string{"--store-database:", "my.db"}},
		{"StrayArgument", []string{"--from", srcDB, "--to", "x.db", "now"}, []string{"takes no arguments"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, append([]string{"migrate-store"}, tc.args...)...)
			if code != 2 {
				t.Errorf("migrate-store %v = %d, want 2\nstdout: %s\nstderr: %s", tc.args, code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("migrate-store %v said %q, want %q in it", tc.args, errOut, w)
				}
			}
			if strings.Contains(errOut, "s3cret") {
				t.Errorf("migrate-store repeated the URI's password: %q", errOut)
			}
		})
	}
}

// verify-log and keys take the store the way serve does, and refuse the
// same bad values before connecting.
func TestStoreFlags_Refusals(t *testing.T) {
	dir := seedLog(t, 1)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"verify-log", "--data-dir", dir, "--store", "mongodb://h/?w=0"}, nil, "--store: mongodb: the store URI asks for weaker guarantees"},
		{[]string{"verify-log", "--data-dir", dir}, map[string]string{"SAYSO_STORE": "mongodb://u:s3cret@h/?readPreference=secondary"}, "SAYSO_STORE: mongodb:"},
		{[]string{"verify-log", "--data-dir", dir, "--store", "data/other.db"}, nil, "leave it empty for the embedded store"},
		{[]string{"keys", "rotate", "--data-dir", dir, "--store", "mysql://h/"}, nil, `not "mysql://"`},
		{[]string{"keys", "rotate", "--data-dir", dir, "--store", "mongodb://h/", "--store-database", "a/b"}, nil, "--store-database:"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, envOf(tc.env), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("sayso %v (env %v) = %d %q, want 2 and %q", tc.args, tc.env, code, errOut.String(), tc.want)
		}
		if strings.Contains(errOut.String(), "s3cret") {
			t.Errorf("sayso %v repeated the URI's password: %q", tc.args, errOut.String())
		}
	}
	// The embedded store is still the default, and still checked.
	verifyOK(t, "--data-dir", dir)
}

// These need a MongoDB replica set (a single-node one will do):
//
//	SAYSO_TEST_MONGODB_URI='mongodb://localhost:27017/?replicaSet=rs0' go test ./cmd/sayso/ -run Mongo
//
// Each test uses its own database, dropped afterwards.
func mongoURI(t *testing.T) string {
	t.Helper()
	uri := os.Getenv("SAYSO_TEST_MONGODB_URI")
	if uri == "" {
		t.Skip("SAYSO_TEST_MONGODB_URI is not set: the migrate-store tests into MongoDB were skipped (no MongoDB server can be installed on this machine)")
	}
	return uri
}

// mongoDatabase is a fresh database name, dropped when the test ends.
func mongoDatabase(t *testing.T, uri string) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	name := "sayso_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client, err := mongodriver.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			t.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer client.Disconnect(ctx)
		if err := client.Database(name).Drop(ctx); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return name
}

func TestMigrateStore_ToMongoDB(t *testing.T) {
	uri := mongoURI(t)
	src := sourceDir(t)
	srcDB := filepath.Join(src, "sayso.db")
	database := mongoDatabase(t, uri)

	// Interrupted in the log, then resumed by the command.
	old := migrateBatch
	migrateBatch = 4
	t.Cleanup(func() { migrateBatch = old })
	from := openSQLite(t, srcDB)
	all, err := from.ExportCount(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	to, err := wire.OpenStore(t.Context(), nil, "", uri, database)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var done int64
	if _, err := migrateStore(ctx, from, to.(migrateTarget), migrateProgress{total: func(int64) {}, add: func(n int64) {
		if done += n; done >= all+migrateBatch {
			cancel()
		}
	}}); err == nil {
		t.Fatal("migrateStore cancelled midway = nil, want it stopped")
	}
	cancel()
	to.Close()
	from.Close()

	code, out, errOut := runCmd(t, "migrate-store", "--from", srcDB, "--to", uri, "--store-database", database, "--quiet")
	if code != 0 {
		t.Fatalf("migrate-store into MongoDB = %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if got, want := verifyOK(t, "--data-dir", src, "--store", uri, "--store-database", database), verifyOK(t, "--data-dir", src); got != want {
		t.Errorf("verify-log on MongoDB = %q, on the source %q", got, want)
	}

	// Sayso serves from MongoDB with the source's keys.
	dir := t.TempDir()
	copyKeys(t, src, dir)
	app, err := wire.Build(t.Context(), testenv.Logger(t), wire.Options{DataDir: dir, Store: uri, StoreDatabase: database, Dev: true, PublicURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	recs, err := app.Service.ReadRecords(t.Context(), consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: "address", Purpose: "plan-support", At: time.Now()}, consent.ChannelAPI)
	if err != nil || !strings.Contains(toJSON(recs), "Willow Road") {
		t.Errorf("Sam's read from MongoDB = %v, %v; want Amara's address", recs, err)
	}
}
