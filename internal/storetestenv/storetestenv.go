// Package storetestenv runs a test against every store Sayso has: the
// embedded SQLite store always, and MongoDB when SAYSO_TEST_MONGODB_URI
// names a server (a replica set; a single-node one will do):
//
//	SAYSO_TEST_MONGODB_URI='mongodb://localhost:27017/?replicaSet=rs0' go test ./...
//
// Each test gets a store of its own: a SQLite file in a temporary folder, or
// a MongoDB database with a random name, dropped when the test ends. Without
// the variable the MongoDB variants skip, saying so in one line; nothing
// stands in for a server.
package storetestenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"sayso/consent"
	"sayso/internal/wire"
)

// URIVar names the MongoDB server the MongoDB variants run against.
const URIVar = "SAYSO_TEST_MONGODB_URI"

// Backend is one kind of store.
type Backend struct {
	Name string // "SQLite" or "MongoDB", which names the subtest
	uri  string // the MongoDB server; "" for SQLite
}

// Backends are the stores tests run against: SQLite, then MongoDB (which
// Run and New skip when SAYSO_TEST_MONGODB_URI is not set).
func Backends() []Backend {
	return []Backend{{Name: "SQLite"}, {Name: "MongoDB", uri: os.Getenv(URIVar)}}
}

// Run runs test once per backend, as subtests named SQLite and MongoDB.
func Run(t *testing.T, test func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			b.skipWithoutServer(t)
			test(t, b)
		})
	}
}

func (b Backend) mongo() bool { return b.Name == "MongoDB" }

func (b Backend) skipWithoutServer(t testing.TB) {
	t.Helper()
	if b.mongo() && b.uri == "" {
		t.Skip(URIVar + " is not set: skipped against MongoDB (no MongoDB server can be installed on this machine)")
	}
}

// Place is where one test's store lives. Every Open is a separate handle
// on it, as a separate server instance would have. Its fields are what
// wire.OpenStore and `sayso serve` take.
type Place struct {
	DataDir  string // a fresh temporary folder: keys, and sayso.db with SQLite
	Store    string // wire.Options.Store: "" for SQLite, else the MongoDB URI
	Database string // wire.Options.StoreDatabase: "" for SQLite
}

// New makes an empty place for a store of this backend. A MongoDB database
// is dropped when the test ends, after every handle on it is closed.
func (b Backend) New(t testing.TB) Place {
	t.Helper()
	b.skipWithoutServer(t)
	p := Place{DataDir: t.TempDir()}
	if !b.mongo() {
		return p
	}
	p.Store, p.Database = b.uri, freshDatabase(t)
	// Registered first, so it runs after the cleanups that close handles.
	t.Cleanup(func() { drop(t, p.Store, p.Database) })
	return p
}

// Open opens an empty store in a place of its own, closed (and, for
// MongoDB, dropped) when the test ends.
func (b Backend) Open(t testing.TB) consent.Store {
	t.Helper()
	return b.New(t).Open(t)
}

// Open opens another handle on the place's store, closed when the test ends.
func (p Place) Open(t testing.TB) consent.Store {
	t.Helper()
	s, err := wire.OpenStore(context.Background(), nil, p.DataDir, p.Store, p.Database)
	if err != nil {
		t.Fatalf("wire.OpenStore(%s) = %v, want nil", p, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Wire points a Sayso built by internal/wire at the place, as an option for
// testenv.New.
func (p Place) Wire(o *wire.Options) {
	o.DataDir, o.Store, o.StoreDatabase = p.DataDir, p.Store, p.Database
}

// Env is the place as `sayso serve --data-dir DataDir` (and the other
// commands) read it from the environment. It always sets both variables,
// so a SQLite run does not pick up a store from the caller's environment.
func (p Place) Env() []string {
	return []string{"SAYSO_STORE=" + p.Store, "SAYSO_STORE_DATABASE=" + p.Database}
}

// String names the place without the URI, which may hold a password.
func (p Place) String() string {
	if p.Store == "" {
		return "SQLite under " + p.DataDir
	}
	return "MongoDB database " + p.Database
}

// freshDatabase is a database name no other test uses.
func freshDatabase(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "sayso_test_" + hex.EncodeToString(b)
}

// drop drops the database through a client of its own, so it works even
// when the test closed its handles or stopped a server that held them.
func drop(t testing.TB, uri, database string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		// Not err: the driver's message may quote the URI, password and all.
		t.Errorf("drop MongoDB database %s: cannot use %s", database, URIVar)
		return
	}
	defer client.Disconnect(ctx)
	if err := client.Database(database).Drop(ctx); err != nil {
		t.Errorf("drop MongoDB database %s: %v", database, err)
	}
}
