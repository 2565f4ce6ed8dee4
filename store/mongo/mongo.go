// Package mongo is Sayso's store for deployments that outgrow one machine:
// a MongoDB replica set or sharded cluster behind any number of stateless
// server instances.
//
// Every consent.Store method is one single-document atomic operation (or,
// for the disclosure log, an ordered insert of documents whose unique _id is
// the log index); nothing uses multi-document transactions. Every write
// waits for a majority of the replica set with the journal (w:majority,
// j:true), every read sees only majority-committed data from the primary.
// docs/ARCHITECTURE.md ("The MongoDB store") explains the collections and
// why each multi-step operation is safe if an instance dies between steps.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"sayso/consent"
)

// Collection names.
const (
	colPeople        = "people"
	colOrganisations = "organisations"
	colMemberships   = "memberships"
	colFamily        = "family_links"
	colHoldings      = "holdings"
	colPolicies      = "policies"
	colRequests      = "requests"
	colSessions      = "sessions"
	colOnce          = "once"
	colLog           = "log_entries"
	colCheckpoints   = "log_checkpoints"
	colKeys          = "wrapped_keys"
)

// Store is a consent.Store in one MongoDB database.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	log    *slog.Logger

	people, organisations, memberships, family, holdings *mongo.Collection
	policies, requests, sessions, once                   *mongo.Collection
	entries, checkpoints, keys                           *mongo.Collection
}

var _ consent.Store = (*Store)(nil)

// Open connects to the MongoDB deployment at uri, uses database (which
// wins over any database named in the URI), and creates the indexes it
// needs if they are missing. The URI must not ask for weaker durability
// than Sayso uses; see ValidateURI.
func Open(ctx context.Context, logger *slog.Logger, uri string, database string) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := ValidateURI(uri); err != nil {
		return nil, err
	}
	if err := validateDatabaseName(database); err != nil {
		return nil, err
	}
	client, err := mongo.Connect(clientOptions(uri))
	if err != nil {
		// The driver's message may quote the URI, password and all.
		return nil, fmt.Errorf("mongodb: cannot use the connection URI: %s", redact(err.Error(), uri))
	}
	s := newStore(client, database, logger)
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		s.Close()
		return nil, fail("mongodb: connect to the primary", err)
	}
	if err := s.createIndexes(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// clientOptions are the URI's options with Sayso's durability settings on
// top: whatever the URI says, writes wait for a journaled majority, reads
// see majority-committed data, and both go to the primary. (ValidateURI has
// already refused a URI that asks for less, so nothing is silently changed.)
func clientOptions(uri string) *options.ClientOptions {
	journal := true
	return options.Client().ApplyURI(uri).
		SetAppName("sayso").
		SetWriteConcern(&writeconcern.WriteConcern{W: writeconcern.WCMajority, Journal: &journal}).
		SetReadConcern(readconcern.Majority()).
		SetReadPreference(readpref.Primary())
}

func newStore(client *mongo.Client, database string, logger *slog.Logger) *Store {
	db := client.Database(database)
	return &Store{
		client: client, db: db, log: logger,
		people: db.Collection(colPeople), organisations: db.Collection(colOrganisations),
		memberships: db.Collection(colMemberships), family: db.Collection(colFamily), holdings: db.Collection(colHoldings),
		policies: db.Collection(colPolicies), requests: db.Collection(colRequests), sessions: db.Collection(colSessions),
		once: db.Collection(colOnce), entries: db.Collection(colLog), checkpoints: db.Collection(colCheckpoints),
		keys: db.Collection(colKeys),
	}
}

// Ping asks the primary whether it answers.
func (s *Store) Ping(ctx context.Context) error {
	return fail("ping", s.client.Ping(ctx, readpref.Primary()))
}

// Close disconnects, waiting at most ten seconds for operations in flight.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.client.Disconnect(ctx)
}

// ValidateURI checks that uri is a MongoDB connection string that does not
// ask for weaker durability or freshness than Sayso needs: writes must be
// acknowledged by a journaled majority (w=majority, journal not false),
// reads must see majority-committed data (readConcernLevel majority or
// unset) from the primary (readPreference primary or unset). It reads the
// URI's own options only: it does no DNS look-up for mongodb+srv.
func ValidateURI(uri string) error {
	var rest string
	switch {
	case strings.HasPrefix(uri, "mongodb://"):
		rest = uri[len("mongodb://"):]
	case strings.HasPrefix(uri, "mongodb+srv://"):
		rest = uri[len("mongodb+srv://"):]
	default:
		scheme, _, ok := strings.Cut(uri, "://")
		if !ok {
			return errors.New(`mongodb: the store URI must start with "mongodb://" or "mongodb+srv://"`)
		}
		return fmt.Errorf(`mongodb: the store URI must start with "mongodb://" or "mongodb+srv://", not %q`, scheme+"://")
	}
	// As the driver reads it: user information runs to the first "@" (any
	// "@" in it must be escaped), options follow the first "?" after it.
	if _, after, ok := strings.Cut(rest, "@"); ok {
		rest = after
	}
	hosts, query, _ := strings.Cut(rest, "?")
	if hosts == "" || hosts == "/" {
		return errors.New("mongodb: the store URI names no host")
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("mongodb: the store URI's options cannot be read: %v", err)
	}
	var problems []string
	for name, vs := range values {
		for _, v := range vs {
			if p := checkOption(strings.ToLower(name), name, v); p != "" {
				problems = append(problems, p)
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("mongodb: the store URI asks for weaker guarantees than Sayso needs: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkOption returns what is wrong with one URI option, or "".
func checkOption(lower, name, v string) string {
	switch lower {
	case "w":
		if v == "majority" {
			return ""
		}
		if n, err := strconv.Atoi(v); err == nil {
			return fmt.Sprintf("%s=%d lets a write be acknowledged before a majority of the replica set has it, so a failover can lose a disclosure entry or a withdrawn grant; use w=majority (or leave it out)", name, n)
		}
		return fmt.Sprintf("%s=%s is a custom write concern that Sayso cannot check is a majority; use w=majority (or leave it out)", name, v)
	case "journal", "j":
		if strings.EqualFold(v, "true") {
			return ""
		}
		return fmt.Sprintf("%s=%s acknowledges writes before they reach the on-disk journal; use journal=true (or leave it out)", name, v)
	case "readconcernlevel":
		switch v {
		case "majority":
			return ""
		case "local", "available":
			return fmt.Sprintf("%s=%s can read data that a failover rolls back (a grant that never was); use readConcernLevel=majority (or leave it out)", name, v)
		}
		return fmt.Sprintf("%s=%s is not the read concern Sayso uses; use readConcernLevel=majority (or leave it out)", name, v)
	case "readpreference":
		if strings.EqualFold(v, "primary") {
			return ""
		}
		return fmt.Sprintf("%s=%s reads from secondaries, which can lag behind a withdrawn grant; use readPreference=primary (or leave it out)", name, v)
	case "readpreferencetags", "maxstalenessseconds":
		return fmt.Sprintf("%s only applies to reads from secondaries, and Sayso reads from the primary; leave it out", name)
	}
	return ""
}

// validateDatabaseName refuses names MongoDB would refuse, with a clear message.
func validateDatabaseName(name string) error {
	switch {
	case name == "":
		return errors.New("mongodb: a database name is required")
	case len(name) >= 64:
		return fmt.Errorf("mongodb: database name %q is too long (at most 63 bytes)", name)
	case strings.ContainsAny(name, "/\\. \"$*<>:|?\x00"):
		return fmt.Errorf("mongodb: database name %q has a character MongoDB does not allow (/\\. \"$*<>:|?)", name)
	}
	return nil
}

// redact removes the URI's password, as written and unescaped, from a
// driver message.
func redact(msg, uri string) string {
	_, rest, _ := strings.Cut(uri, "://")
	userinfo, _, ok := strings.Cut(rest, "@")
	if !ok {
		return msg
	}
	_, password, ok := strings.Cut(userinfo, ":")
	if !ok || password == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, password, "<password>")
	if p, err := url.PathUnescape(password); err == nil && p != "" {
		msg = strings.ReplaceAll(msg, p, "<password>")
	}
	return msg
}

// index is one index Sayso keeps, named so that creating it again is a
// no-op and a changed definition is an error rather than a second index.
type index struct {
	Collection string
	Name       string
	Keys       bson.D
	Unique     bool
	Partial    bson.D // partialFilterExpression, if any
	TTL        bool   // expire documents once the first key's date passes
}

// indexes are every index Sayso needs beyond _id. Each list query has an
// index whose keys are its equality fields then its sort, so it reads only
// what it returns.
var indexes = []index{
	// An empty subject is "never signed in" and is stored as no field, so
	// many people may have none.
	{Collection: colPeople, Name: "people_subject", Keys: bson.D{{Key: "subject", Value: 1}}, Unique: true,
		Partial: bson.D{{Key: "subject", Value: bson.D{{Key: "$exists", Value: true}}}}},
	{Collection: colMemberships, Name: "memberships_person",
		Keys: bson.D{{Key: "person_id", Value: 1}, {Key: "started_at", Value: 1}, {Key: "_id", Value: 1}}},
	{Collection: colFamily, Name: "family_links_young_person",
		Keys: bson.D{{Key: "young_person_id", Value: 1}, {Key: "created_at", Value: 1}, {Key: "family_id", Value: 1}}},
	{Collection: colFamily, Name: "family_links_family",
		Keys: bson.D{{Key: "family_id", Value: 1}, {Key: "created_at", Value: 1}, {Key: "young_person_id", Value: 1}}},
	{Collection: colHoldings, Name: "holdings_young_person",
		Keys: bson.D{{Key: "young_person_id", Value: 1}, {Key: "organisation_id", Value: 1}, {Key: "category", Value: 1}, {Key: "_id", Value: 1}}},
	{Collection: colRequests, Name: "requests_young_person",
		Keys: bson.D{{Key: "young_person_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}},
	{Collection: colRequests, Name: "requests_professional",
		Keys: bson.D{{Key: "professional_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}},
	// The server drops used one-time values once they expire; UseOnce also
	// takes over an expired one itself, as the TTL monitor runs only once a
	// minute.
	{Collection: colOnce, Name: "once_expires", Keys: bson.D{{Key: "expires", Value: 1}}, TTL: true},
	{Collection: colLog, Name: "log_entries_young_person", Keys: bson.D{{Key: "young_person_id", Value: 1}, {Key: "_id", Value: 1}}},
	{Collection: colLog, Name: "log_entries_organisation", Keys: bson.D{{Key: "organisation_id", Value: 1}, {Key: "_id", Value: 1}}},
	// The pages' look-ups (concerns.go).
	concernsOrganisationIndex, concernsYoungPersonIndex, holdingsOrganisationIndex, membershipsOrganisationIndex,
}

// model is the driver's form of an index.
func (ix index) model() mongo.IndexModel {
	o := options.Index().SetName(ix.Name)
	if ix.Unique {
		o.SetUnique(true)
	}
	if ix.Partial != nil {
		o.SetPartialFilterExpression(ix.Partial)
	}
	if ix.TTL {
		o.SetExpireAfterSeconds(0)
	}
	return mongo.IndexModel{Keys: ix.Keys, Options: o}
}

// createIndexes creates the indexes that are missing. Creating an index
// that exists with the same name and definition does nothing, so every
// instance does this at start.
func (s *Store) createIndexes(ctx context.Context) error {
	byCollection := map[string][]mongo.IndexModel{}
	var order []string
	for _, ix := range indexes {
		if _, seen := byCollection[ix.Collection]; !seen {
			order = append(order, ix.Collection)
		}
		byCollection[ix.Collection] = append(byCollection[ix.Collection], ix.model())
	}
	for _, c := range order {
		if _, err := s.db.Collection(c).Indexes().CreateMany(ctx, byCollection[c]); err != nil {
			return fail("mongodb: create indexes on "+c, err)
		}
	}
	s.log.Debug("mongodb indexes ready", slog.String("database", s.db.Name()), slog.Int("indexes", len(indexes)))
	return nil
}

// fail maps a driver error onto the consent.Store error contract: no
// document is ErrNotFound, a taken unique value is ErrConflict, and
// anything else (a timeout, no primary, a write concern that could not be
// met, a cancelled context) means the store could not do its part:
// ErrUnavailable.
func fail(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("%s: %w", op, consent.ErrNotFound)
	case isDuplicateKey(err):
		return fmt.Errorf("%s: %w", op, consent.ErrConflict)
	default:
		return fmt.Errorf("%s: %w: %w", op, consent.ErrUnavailable, err)
	}
}

// isDuplicateKey reports a duplicate key error that is the whole story: a
// write whose majority acknowledgement also failed is not a plain conflict.
func isDuplicateKey(err error) bool {
	var we mongo.WriteException
	if errors.As(err, &we) && we.WriteConcernError != nil {
		return false
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError != nil {
		return false
	}
	return mongo.IsDuplicateKeyError(err)
}

// dt stores a time as a BSON datetime (UTC, whole milliseconds); the zero
// time is no value at all.
func dt(t time.Time) *bson.DateTime {
	if t.IsZero() {
		return nil
	}
	d := bson.DateTime(t.UnixMilli())
	return &d
}

// tm reads back what dt stored, in UTC.
func tm(d *bson.DateTime) time.Time {
	if d == nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(*d)).UTC()
}

// one reads a single document into a T.
func one[T any](ctx context.Context, c *mongo.Collection, op string, filter any, opts ...options.Lister[options.FindOneOptions]) (T, error) {
	var v T
	err := c.FindOne(ctx, filter, opts...).Decode(&v)
	return v, fail(op, err)
}

// all reads every document a query returns, converted with conv; none is an
// empty list.
func all[D, T any](ctx context.Context, c *mongo.Collection, op string, conv func(D) T, filter any, opts ...options.Lister[options.FindOptions]) ([]T, error) {
	cur, err := c.Find(ctx, filter, opts...)
	if err != nil {
		return nil, fail(op, err)
	}
	defer cur.Close(ctx)
	out := []T{}
	for cur.Next(ctx) {
		var d D
		if err := cur.Decode(&d); err != nil {
			return nil, fail(op, err)
		}
		out = append(out, conv(d))
	}
	return out, fail(op, cur.Err())
}

// byID is the filter for one document.
func byID(id any) bson.D { return bson.D{{Key: "_id", Value: id}} }
