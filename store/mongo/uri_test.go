package mongo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"sayso/consent"
)

// These tests need no server.

func TestValidateURIAccepts(t *testing.T) {
	for _, uri := range []string{
		"mongodb://localhost",
		"mongodb://localhost:27017/",
		"mongodb://db1.example.org:27017,db2.example.org:27017,db3.example.org:27017/sayso?replicaSet=rs0",
		"mongodb://sayso:p%40ss%3Aw0rd@db1.example.org/?replicaSet=rs0&authSource=admin",
		"mongodb+srv://cluster0.example.net/?retryWrites=true&w=majority&appName=sayso",
		"mongodb://h/?w=majority&journal=true&readConcernLevel=majority&readPreference=primary",
		"mongodb://h/?W=majority&JOURNAL=TRUE&ReadPreference=Primary", // option names are case-insensitive
		"mongodb://h/?wtimeoutMS=5000&tls=true&maxPoolSize=200&compressors=zstd",
		"mongodb://h/?retryWrites=false",
		"mongodb://user:w=1@h/", // a password that looks like an option is not one
	} {
		if err := ValidateURI(uri); err != nil {
			t.Errorf("ValidateURI(%q) = %v, want nil", uri, err)
		}
	}
}

func TestValidateURIRefuses(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want []string // fragments of the message
	}{
		{"", []string{`must start with "mongodb://" or "mongodb+srv://"`}},
		{"localhost:27017", []string{`must start with "mongodb://" or "mongodb+srv://"`}},
		{"http://localhost:27017", []string{`must start with "mongodb://" or "mongodb+srv://"`, `not "http://"`}},
		{"mongo://localhost", []string{`not "mongo://"`}},
		{"file:///var/lib/sayso.db", []string{`not "file://"`}},
		{"mongodb://", []string{"names no host"}},
		{"mongodb:///?w=majority", []string{"names no host"}},
		{"mongodb://h/?w=0", []string{"w=0", "before a majority", "use w=majority"}},
		{"mongodb://h/?w=1", []string{"w=1", "before a majority"}},
		{"mongodb://h/?w=2", []string{"w=2", "use w=majority"}},
		{"mongodb://h/?W=1", []string{"W=1"}},
		{"mongodb://h/?w=datacentres", []string{"w=datacentres", "custom write concern"}},
		{"mongodb://h/?w=majority&w=1", []string{"w=1"}},
		{"mongodb://h/?journal=false", []string{"journal=false", "on-disk journal", "journal=true"}},
		{"mongodb://h/?readConcernLevel=local", []string{"readConcernLevel=local", "rolls back", "readConcernLevel=majority"}},
		{"mongodb://h/?readConcernLevel=available", []string{"readConcernLevel=available", "rolls back"}},
		{"mongodb://h/?readConcernLevel=linearizable", []string{"readConcernLevel=linearizable", "readConcernLevel=majority"}},
		{"mongodb://h/?readPreference=secondary", []string{"readPreference=secondary", "secondaries", "readPreference=primary"}},
		{"mongodb://h/?readPreference=secondaryPreferred", []string{"readPreference=secondaryPreferred"}},
		{"mongodb://h/?readPreference=nearest", []string{"readPreference=nearest"}},
		{"mongodb://h/?readPreference=primaryPreferred", []string{"readPreference=primaryPreferred"}},
		{"mongodb://h/?maxStalenessSeconds=120", []string{"maxStalenessSeconds", "leave it out"}},
		{"mongodb://h/?readPreferenceTags=dc:east", []string{"readPreferenceTags"}},
		{"mongodb+srv://cluster0.example.net/?w=1", []string{"w=1"}},
		{"mongodb://u:secret@h/?w=1&journal=false", []string{"w=1", "journal=false"}},
		{"mongodb://h/?w=%zz", []string{"cannot be read"}},
	} {
		err := ValidateURI(tc.uri)
		if err == nil {
			t.Errorf("ValidateURI(%q) = nil, want an error", tc.uri)
			continue
		}
		for _, frag := range tc.want {
			if !strings.Contains(err.Error(), frag) {
				t.Errorf("ValidateURI(%q) = %q, want it to say %q", tc.uri, err, frag)
			}
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ValidateURI(%q) = %q: it repeats the password", tc.uri, err)
		}
	}
}

func TestRedact(t *testing.T) {
	uri := "mongodb://sayso:p%40ss@h/"
	for _, msg := range []string{"auth failed for p@ss", "bad uri mongodb://sayso:p%40ss@h/"} {
		if got := redact(msg, uri); strings.Contains(got, "p@ss") || strings.Contains(got, "p%40ss") {
			t.Errorf("redact(%q) = %q, still holds the password", msg, got)
		}
	}
	if got := redact("no host", "mongodb://h/"); got != "no host" {
		t.Errorf("redact without a password = %q, want the message unchanged", got)
	}
}

func TestValidateDatabaseName(t *testing.T) {
	for _, name := range []string{"sayso", "sayso_prod", "Sayso-2"} {
		if err := validateDatabaseName(name); err != nil {
			t.Errorf("validateDatabaseName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", "a.b", "a/b", "a b", "a$b", strings.Repeat("x", 64)} {
		if err := validateDatabaseName(name); err == nil {
			t.Errorf("validateDatabaseName(%q) = nil, want an error", name)
		}
	}
}

// The client the store makes writes with a journaled majority and reads
// majority-committed data from the primary, whatever the URI leaves out.
func TestClientOptionsDurability(t *testing.T) {
	for _, uri := range []string{"mongodb://h/", "mongodb://h/?w=majority&journal=true&readConcernLevel=majority&readPreference=primary"} {
		o := clientOptions(uri)
		if err := o.Validate(); err != nil {
			t.Fatalf("clientOptions(%q).Validate() = %v", uri, err)
		}
		if wc := o.WriteConcern; wc == nil || wc.W != writeconcern.WCMajority || wc.Journal == nil || !*wc.Journal {
			t.Errorf("clientOptions(%q) write concern = %+v, want w:majority j:true", uri, wc)
		}
		if rc := o.ReadConcern; rc == nil || rc.Level != "majority" {
			t.Errorf("clientOptions(%q) read concern = %+v, want majority", uri, rc)
		}
		if rp := o.ReadPreference; rp == nil || rp.Mode() != readpref.PrimaryMode {
			t.Errorf("clientOptions(%q) read preference = %v, want primary", uri, rp)
		}
	}
}

// Open checks the URI and the database name before it connects.
func TestOpenRefusesBeforeConnecting(t *testing.T) {
	for _, tc := range []struct{ uri, database, want string }{
		{"mongodb://h/?w=1", "sayso", "w=1"},
		{"postgres://h/", "sayso", "must start with"},
		{"mongodb://h/", "", "database name is required"},
		{"mongodb://h/", "say.so", "does not allow"},
	} {
		s, err := Open(t.Context(), nil, tc.uri, tc.database)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q, %q) = nil error, want one saying %q", tc.uri, tc.database, tc.want)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %q) = %v, want it to say %q", tc.uri, tc.database, err, tc.want)
		}
	}
}

// With nothing listening, Open fails as ErrUnavailable, without the
// password in the message. (The real driver, trying to reach a port where
// no server is: this needs no server.)
func TestOpenWithoutServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	s, err := Open(ctx, nil, "mongodb://sayso:hunter2@127.0.0.1:1/?serverSelectionTimeoutMS=300&connectTimeoutMS=300", "sayso")
	if err == nil {
		s.Close()
		t.Fatal("Open with nothing listening succeeded")
	}
	if !errors.Is(err, consent.ErrUnavailable) {
		t.Errorf("Open with nothing listening = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open's error %q holds the password", err)
	}
}
