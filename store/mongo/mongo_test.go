package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"sayso/consent"
	"sayso/consent/storetest"
)

// These tests need a real MongoDB replica set (a single-node one will do):
//
//	SAYSO_TEST_MONGODB_URI='mongodb://localhost:27017/?replicaSet=rs0' go test ./store/mongo/
//
// Each test gets its own database with a random name, dropped afterwards.
// Without the variable they skip, saying so: nothing here stands in for a
// server.

const uriVar = "SAYSO_TEST_MONGODB_URI"

func serverURI(t *testing.T) string {
	t.Helper()
	uri := os.Getenv(uriVar)
	if uri == "" {
		t.Skip(uriVar + " is not set: the MongoDB store's conformance tests were skipped (no MongoDB server can be installed on this machine)")
	}
	return uri
}

// freshDatabase is a database name no other test uses.
func freshDatabase(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "sayso_test_" + hex.EncodeToString(b)
}

// open opens a store on database; drop says whether this handle drops the
// database when the test ends.
func open(t *testing.T, uri, database string, drop bool) *Store {
	t.Helper()
	s, err := Open(t.Context(), nil, uri, database)
	if err != nil {
		t.Fatalf("Open(%s): %v", database, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if drop {
			if err := s.db.Drop(ctx); err != nil {
				t.Errorf("drop database %s: %v", database, err)
			}
		}
		s.Close()
	})
	return s
}

func TestConformance(t *testing.T) {
	uri := serverURI(t)
	storetest.Run(t, func(t *testing.T) consent.Store {
		return open(t, uri, freshDatabase(t), true)
	})
}

// Two handles on one database stand for two server instances: their
// concurrent appends must interleave into one gap-free log whose tree is
// built from what the other instance wrote.
func TestTwoInstancesAppend(t *testing.T) {
	uri := serverURI(t)
	database := freshDatabase(t)
	a := open(t, uri, database, true)
	b := open(t, uri, database, false) // opening again finds the indexes made
	storetest.ConcurrentAppends(t, []consent.LogStore{a, b}, 8, 5, 3)
}

// Open creates exactly the indexes in the table, and opening again changes
// nothing.
func TestOpenCreatesIndexes(t *testing.T) {
	uri := serverURI(t)
	database := freshDatabase(t)
	s := open(t, uri, database, true)
	open(t, uri, database, false)
	want := map[string][]string{}
	for _, ix := range indexes {
		want[ix.Collection] = append(want[ix.Collection], ix.Name)
	}
	for c, names := range want {
		cur, err := s.db.Collection(c).Indexes().List(t.Context())
		if err != nil {
			t.Fatalf("list indexes of %s: %v", c, err)
		}
		var specs []bson.M
		if err := cur.All(t.Context(), &specs); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, spec := range specs {
			if name := spec["name"].(string); name != "_id_" {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		slices.Sort(names)
		if !slices.Equal(got, names) {
			t.Errorf("indexes of %s = %v, want %v", c, got, names)
		}
	}
}
