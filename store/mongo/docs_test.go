package mongo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/mod/sumdb/tlog"

	"sayso/consent"
)

// These tests need no server: they check the stored format, the index
// table and the pure parts of the log, with the real bson codec.

var (
	zone = time.FixedZone("X", 5*3600+30*60)
	// t0 has nanoseconds and a zone, so a store that keeps either shows up.
	t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone)
	// before1970 is negative as unix milliseconds, where rounding differs
	// from truncating.
	before1970 = time.Date(1969, 12, 31, 23, 59, 59, 999_600_000, time.UTC)
)

func at(d time.Duration) time.Time { return t0.Add(d) }

// roundTrip marshals doc with the bson codec and unmarshals it into a new D.
func roundTrip[D any](t *testing.T, doc D) (D, bson.Raw) {
	t.Helper()
	b, err := bson.Marshal(doc)
	if err != nil {
		t.Fatalf("bson.Marshal(%T): %v", doc, err)
	}
	var back D
	if err := bson.Unmarshal(b, &back); err != nil {
		t.Fatalf("bson.Unmarshal(%T): %v", doc, err)
	}
	return back, bson.Raw(b)
}

// millis is want with every time as the store keeps it.
func millis[T any](want T) T {
	normalise(reflect.ValueOf(&want).Elem())
	return want
}

var timeType = reflect.TypeFor[time.Time]()

func normalise(v reflect.Value) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(consent.Millis(v.Interface().(time.Time))))
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			normalise(v.Field(i))
		}
	case v.Kind() == reflect.Slice && !v.IsNil():
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		v.Set(c)
		for i := range c.Len() {
			normalise(c.Index(i))
		}
	}
}

// allUTC reports the first time in v that is not zero and not in UTC.
func allUTC(v reflect.Value, path string) string {
	switch {
	case v.Type() == timeType:
		if tt := v.Interface().(time.Time); !tt.IsZero() && tt.Location() != time.UTC {
			return path
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if p := allUTC(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			if p := allUTC(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// check compares a value that went through the codec with what was written.
func check[T any](t *testing.T, what string, got, wrote T) {
	t.Helper()
	if want := millis(wrote); !reflect.DeepEqual(got, want) {
		t.Errorf("%s after a bson round trip = %+v, want %+v", what, got, want)
	}
	if p := allUTC(reflect.ValueOf(got), what); p != "" {
		t.Errorf("%s came back in another zone than UTC", p)
	}
}

// wantTypes checks the BSON type of fields in raw; bson.Type(0) means absent.
func wantTypes(t *testing.T, what string, raw bson.Raw, types map[string]bson.Type) {
	t.Helper()
	for field, want := range types {
		v, err := raw.LookupErr(field)
		switch {
		case want == 0 && err == nil:
			t.Errorf("%s: field %s is stored (%s), want it absent", what, field, v.Type)
		case want != 0 && err != nil:
			t.Errorf("%s: field %s is absent, want %s", what, field, want)
		case want != 0 && v.Type != want:
			t.Errorf("%s: field %s is %s, want %s", what, field, v.Type, want)
		}
	}
}

func TestPersonDoc(t *testing.T) {
	p := consent.Person{ID: "p1", Name: "Pat", Subject: "sub-1", BirthDate: before1970, Operator: true, CreatedAt: t0}
	back, raw := roundTrip(t, toPersonDoc(p))
	check(t, "Person", back.person(), p)
	wantTypes(t, "person", raw, map[string]bson.Type{
		"_id": bson.TypeString, "subject": bson.TypeString, "birth_date": bson.TypeDateTime, "created_at": bson.TypeDateTime, "operator": bson.TypeBoolean,
	})
	// No subject and zero times are stored as no field, and come back zero.
	empty := consent.Person{ID: "p2", Name: "Sam"}
	back, raw = roundTrip(t, toPersonDoc(empty))
	check(t, "Person without subject", back.person(), empty)
	wantTypes(t, "person without subject", raw, map[string]bson.Type{"subject": 0, "birth_date": 0, "created_at": 0})
}

func TestOrganisationDoc(t *testing.T) {
	o := consent.Organisation{ID: "o1", Name: "School", Kind: consent.OrgSchool, CreatedAt: t0}
	back, _ := roundTrip(t, toOrganisationDoc(o))
	check(t, "Organisation", back.organisation(), o)
}

func TestMembershipDoc(t *testing.T) {
	for _, m := range []consent.Membership{
		{ID: "m1", PersonID: "p1", OrganisationID: "o1", Role: consent.RoleDPO, StartedAt: t0, EndedAt: at(48*time.Hour + 1)},
		{ID: "m2", PersonID: "p1", OrganisationID: "o1", Role: consent.RoleTeacher, StartedAt: t0},
	} {
		back, raw := roundTrip(t, toMembershipDoc(m))
		check(t, "Membership "+m.ID, back.membership(), m)
		if m.EndedAt.IsZero() {
			wantTypes(t, "running membership", raw, map[string]bson.Type{"ended_at": 0, "started_at": bson.TypeDateTime})
		}
	}
}

func TestFamilyDoc(t *testing.T) {
	l := consent.FamilyLink{FamilyID: "f1", YoungPersonID: "yp1", Relationship: "foster carer", CanAct: true, CreatedAt: t0}
	back, raw := roundTrip(t, toFamilyDoc(l))
	check(t, "FamilyLink", back.link(), l)
	wantTypes(t, "family link", raw, map[string]bson.Type{"_id": bson.TypeEmbeddedDocument, "young_person_id": bson.TypeString, "family_id": bson.TypeString})
	// The _id is the pair, in a fixed order, so the same pair is the same _id.
	a, _ := bson.Marshal(toFamilyDoc(l).ID)
	b, _ := bson.Marshal(toFamilyDoc(consent.FamilyLink{FamilyID: "f1", YoungPersonID: "yp1", Relationship: "other"}).ID)
	if !slices.Equal(a, b) {
		t.Errorf("the _id of one pair differs between links: %x and %x", a, b)
	}
}

func TestHoldingDoc(t *testing.T) {
	h := consent.Holding{ID: "h1", OrganisationID: "o1", YoungPersonID: "yp1", Category: "health", Since: t0, System: "the GP system", Summary: "visits"}
	back, _ := roundTrip(t, toHoldingDoc(h))
	check(t, "Holding", back.holding(), h)
}

func TestPolicyDoc(t *testing.T) {
	p := consent.Policy{
		YoungPersonID: "yp1", Version: 1 << 40,
		Grants: []consent.Grant{
			{ID: "g1", ProfessionalID: "pro1", YoungPersonID: "yp1", Category: "health", Purpose: "health-care", GrantedBy: "yp1",
				RequestID: "r1", CreatedAt: t0, Until: at(90 * 24 * time.Hour), StoppedAt: at(time.Hour + 7), StoppedBy: "fam1"},
			{ID: "g2", ProfessionalID: "pro2", YoungPersonID: "yp1", Category: "education", Purpose: "education-support",
				GrantedBy: "fam1", CreatedAt: before1970, Until: at(time.Hour)},
		},
		Blocks:     []consent.Block{{ProfessionalID: "pro3", CreatedBy: "yp1", CreatedAt: at(2 * time.Hour)}, {ProfessionalID: "pro4"}},
		Competence: []consent.Competence{{RecordedBy: "pro1", RecordedAt: at(3 * time.Hour), Competent: true, Note: "understands"}, {RecordedBy: "pro2", RecordedAt: t0}},
	}
	back, raw := roundTrip(t, toPolicyDoc(p))
	check(t, "Policy", back.policy(), p)
	wantTypes(t, "policy", raw, map[string]bson.Type{"_id": bson.TypeString, "version": bson.TypeInt64, "grants": bson.TypeArray})
	if g := raw.Lookup("grants", "1"); g.Type != bson.TypeEmbeddedDocument {
		t.Fatalf("grants.1 is %s", g.Type)
	} else if _, err := g.Document().LookupErr("stopped_at"); err == nil {
		t.Errorf("a running grant stores stopped_at; want it absent")
	}
	empty := consent.Policy{YoungPersonID: "yp2", Version: 1}
	back, _ = roundTrip(t, toPolicyDoc(empty))
	check(t, "empty Policy", back.policy(), empty)
}

func TestRequestDoc(t *testing.T) {
	for _, r := range []consent.AccessRequest{
		{ID: "r1", ProfessionalID: "pro1", OrganisationID: "o1", YoungPersonID: "yp1", Categories: []string{"health", "education"},
			Purpose: "plan-support", Reason: "to plan", DurationDays: 30, CreatedAt: t0, ExpiresAt: at(14 * 24 * time.Hour),
			Status: consent.RequestWaiting},
		{ID: "r2", ProfessionalID: "pro1", OrganisationID: "o1", YoungPersonID: "yp1", Categories: []string{"health", "education"},
			Purpose: "plan-support", Reason: "to plan", DurationDays: 30, CreatedAt: t0, ExpiresAt: at(14 * 24 * time.Hour),
			Status: consent.RequestPartly, Approved: []string{"health"}, DecidedBy: "yp1", DecidedAt: at(36*time.Hour + 987654321),
			Message: "only health", GrantsApplied: true},
		{ID: "r3", Status: consent.RequestDeclined, Approved: []string{}},
	} {
		back, _ := roundTrip(t, toRequestDoc(r))
		got := back.request()
		// nil and empty lists are the same to every caller.
		if len(r.Approved) == 0 && len(got.Approved) == 0 {
			got.Approved = r.Approved
		}
		check(t, "AccessRequest "+r.ID, got, r)
	}
}

func TestSessionDoc(t *testing.T) {
	x := consent.Session{IDHash: "hash", PersonID: "p1", CreatedAt: t0, LastSeenAt: at(time.Minute), ExpiresAt: at(12 * time.Hour)}
	back, raw := roundTrip(t, toSessionDoc(x))
	check(t, "Session", back.session(), x)
	wantTypes(t, "session", raw, map[string]bson.Type{"_id": bson.TypeString, "expires_at": bson.TypeDateTime})
}

func TestOnceDoc(t *testing.T) {
	for _, e := range []time.Time{t0, time.Time{}} {
		_, raw := roundTrip(t, onceDoc{Key: "k", Expires: bson.DateTime(e.UnixMilli())})
		// The TTL index only expires BSON dates.
		wantTypes(t, "one-time value", raw, map[string]bson.Type{"expires": bson.TypeDateTime})
	}
}

func TestEntryDoc(t *testing.T) {
	e := consent.LogEntry{
		Index: 1 << 33, Data: []byte("sayso-disclosure/2\n{\"x\":1}\n\x00\xff"), At: t0, YoungPersonID: "yp1", ActorID: "pro1",
		OrganisationID: "o1", Category: "health", Purpose: "health-care", LawfulBasis: consent.BasisPublicTask, Outcome: consent.OutcomeRefused,
	}
	hashes := [][]byte{make([]byte, 32), append(make([]byte, 31), 7)}
	back, raw := roundTrip(t, toEntryDoc(e, hashes))
	check(t, "LogEntry", back.entry(), e)
	if !reflect.DeepEqual(back.Hashes, hashes) {
		t.Errorf("entry hashes after a round trip = %x, want %x", back.Hashes, hashes)
	}
	wantTypes(t, "log entry", raw, map[string]bson.Type{
		"_id": bson.TypeInt64, "data": bson.TypeBinary, "at": bson.TypeDateTime, "hashes": bson.TypeArray,
	})
	// A small index is still a 64-bit integer, so _id sorts and compares
	// as one type whatever the log's size.
	_, raw = roundTrip(t, toEntryDoc(consent.LogEntry{Index: 3}, nil))
	wantTypes(t, "log entry 3", raw, map[string]bson.Type{"_id": bson.TypeInt64})
}

func TestCheckpointDoc(t *testing.T) {
	c := checkpointDoc{Size: 12345, Signed: []byte("sayso.example.org/log\n12345\nroot\n\n— sig\n")}
	back, raw := roundTrip(t, c)
	if !reflect.DeepEqual(back, c) {
		t.Errorf("checkpoint after a round trip = %+v, want %+v", back, c)
	}
	wantTypes(t, "checkpoint", raw, map[string]bson.Type{"_id": bson.TypeInt64, "signed": bson.TypeBinary})
}

func TestKeyDoc(t *testing.T) {
	for _, k := range []consent.WrappedKey{
		{YoungPersonID: "yp1", Wrapped: []byte{0, 1, 2, 255}, KEKID: 1<<32 - 1, CreatedAt: t0},
		{YoungPersonID: "yp2", Wrapped: []byte("w"), KEKID: 0},
	} {
		back, raw := roundTrip(t, toKeyDoc(k))
		check(t, "WrappedKey "+k.YoungPersonID, back.key(), k)
		wantTypes(t, "wrapped key", raw, map[string]bson.Type{"_id": bson.TypeString, "wrapped": bson.TypeBinary, "kek_id": bson.TypeInt64})
	}
}

func TestTimes(t *testing.T) {
	for _, in := range []time.Time{t0, before1970, time.Date(2038, 1, 19, 3, 14, 8, 999_999_999, time.UTC), time.UnixMilli(0)} {
		got := tm(dt(in))
		if got != consent.Millis(in) || got.Location() != time.UTC {
			t.Errorf("tm(dt(%v)) = %v (%v), want %v in UTC", in, got, got.Location(), consent.Millis(in))
		}
	}
	if dt(time.Time{}) != nil || !tm(nil).IsZero() {
		t.Errorf("the zero time is not stored as no value")
	}
}

// The index table, as the list queries need it. A change here is a change
// to every deployment's indexes: MongoDB refuses an index whose name exists
// with another definition, so a changed index needs a new name.
func TestIndexes(t *testing.T) {
	type want struct {
		collection, name, keys string
		unique, ttl            bool
		partial                string // as relaxed extended JSON
	}
	wants := []want{
		{colPeople, "people_subject", "subject:1", true, false, `{"subject":{"$exists":true}}`},
		{colMemberships, "memberships_person", "person_id:1 started_at:1 _id:1", false, false, ""},
		{colFamily, "family_links_young_person", "young_person_id:1 created_at:1 family_id:1", false, false, ""},
		{colFamily, "family_links_family", "family_id:1 created_at:1 young_person_id:1", false, false, ""},
		{colHoldings, "holdings_young_person", "young_person_id:1 organisation_id:1 category:1 _id:1", false, false, ""},
		{colRequests, "requests_young_person", "young_person_id:1 created_at:-1 _id:-1", false, false, ""},
		{colRequests, "requests_professional", "professional_id:1 created_at:-1 _id:-1", false, false, ""},
		{colOnce, "once_expires", "expires:1", false, true, ""},
		{colLog, "log_entries_young_person", "young_person_id:1 _id:1", false, false, ""},
		{colLog, "log_entries_organisation", "organisation_id:1 _id:1", false, false, ""},
		{colConcerns, "concerns_organisation", "organisation_id:1 created_at:-1 _id:-1", false, false, ""},
		{colConcerns, "concerns_young_person", "young_person_id:1 created_at:-1 _id:-1", false, false, ""},
		{colHoldings, "holdings_organisation", "organisation_id:1 young_person_id:1", false, false, ""},
		{colMemberships, "memberships_organisation", "organisation_id:1 started_at:1 _id:1", false, false, ""},
	}
	if len(indexes) != len(wants) {
		t.Errorf("%d indexes, want %d", len(indexes), len(wants))
	}
	names := map[string]bool{}
	for i, ix := range indexes {
		if names[ix.Name] {
			t.Errorf("index name %s is used twice", ix.Name)
		}
		names[ix.Name] = true
		if i >= len(wants) {
			continue
		}
		var keys []string
		for _, k := range ix.Keys {
			keys = append(keys, fmt.Sprintf("%s:%v", k.Key, k.Value))
		}
		partial := ""
		if ix.Partial != nil {
			b, err := bson.MarshalExtJSON(ix.Partial, false, false)
			if err != nil {
				t.Fatal(err)
			}
			partial = string(b)
		}
		if got := (want{ix.Collection, ix.Name, strings.Join(keys, " "), ix.Unique, ix.TTL, partial}); got != wants[i] {
			t.Errorf("index %d = %+v, want %+v", i, got, wants[i])
		}

		// The driver's model carries the name and options.
		m := ix.model()
		var o options.IndexOptions
		for _, set := range m.Options.List() {
			if err := set(&o); err != nil {
				t.Fatal(err)
			}
		}
		if o.Name == nil || *o.Name != ix.Name {
			t.Errorf("index %s: model name = %v", ix.Name, o.Name)
		}
		if (o.Unique != nil && *o.Unique) != ix.Unique {
			t.Errorf("index %s: model unique = %v, want %v", ix.Name, o.Unique, ix.Unique)
		}
		if (o.ExpireAfterSeconds != nil) != ix.TTL || (ix.TTL && *o.ExpireAfterSeconds != 0) {
			t.Errorf("index %s: model expireAfterSeconds = %v, want TTL %v at 0", ix.Name, o.ExpireAfterSeconds, ix.TTL)
		}
		if (o.PartialFilterExpression != nil) != (ix.Partial != nil) {
			t.Errorf("index %s: model partial filter = %v, want %v", ix.Name, o.PartialFilterExpression, ix.Partial)
		}
		if !reflect.DeepEqual(m.Keys, ix.Keys) {
			t.Errorf("index %s: model keys = %v, want %v", ix.Name, m.Keys, ix.Keys)
		}
	}
}

// hashSlot finds, for every stored tree hash, the entry whose append
// computed it and its place in that entry's list, exactly as
// tlog.StoredHashes lays them out.
func TestHashSlot(t *testing.T) {
	stored := map[int64]tlog.Hash{}
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = stored[x]
		}
		return out, nil
	})
	const n = 1100
	for e := range int64(n) {
		hs, err := tlog.StoredHashes(e, fmt.Appendf(nil, "entry %d", e), r)
		if err != nil {
			t.Fatal(err)
		}
		base := tlog.StoredHashIndex(0, e)
		if got := tlog.StoredHashIndex(0, e+1) - base; got != int64(len(hs)) {
			t.Fatalf("entry %d adds %d hashes, the next entry's hashes start %d later", e, len(hs), got)
		}
		for j, h := range hs {
			stored[base+int64(j)] = h
			if ge, gp := hashSlot(base + int64(j)); ge != e || gp != j {
				t.Fatalf("hashSlot(%d) = entry %d, place %d; want entry %d, place %d", base+int64(j), ge, gp, e, j)
			}
		}
	}
	if int64(len(stored)) != tlog.StoredHashCount(n) {
		t.Errorf("%d hashes stored for %d entries, want %d", len(stored), n, tlog.StoredHashCount(n))
	}
}

func TestHashesPerEntry(t *testing.T) {
	batch := func(first, n int64) []consent.StoredHash {
		var hs []consent.StoredHash
		for x := tlog.StoredHashCount(first); x < tlog.StoredHashCount(first+n); x++ {
			hs = append(hs, consent.StoredHash{Index: x, Hash: [32]byte{byte(x), byte(x >> 8)}})
		}
		return hs
	}
	full := batch(5, 4)
	per, err := hashesPerEntry(5, 4, full)
	if err != nil {
		t.Fatalf("hashesPerEntry(the batch's own hashes) = %v", err)
	}
	for i, hs := range per {
		for j, h := range hs {
			x := tlog.StoredHashIndex(0, 5+int64(i)) + int64(j)
			if h[0] != byte(x) || h[1] != byte(x>>8) || len(h) != 32 {
				t.Errorf("entry %d hash %d = %x, want the one for storage index %d", 5+i, j, h, x)
			}
		}
	}
	// Any order will do.
	reversed := slices.Clone(full)
	slices.Reverse(reversed)
	if _, err := hashesPerEntry(5, 4, reversed); err != nil {
		t.Errorf("hashesPerEntry(reversed) = %v, want nil", err)
	}
	if _, err := hashesPerEntry(0, 0, nil); err != nil {
		t.Errorf("hashesPerEntry(empty batch) = %v, want nil", err)
	}
	for name, hs := range map[string][]consent.StoredHash{
		"missing one":    full[1:],
		"one twice":      append(slices.Clone(full), full[2]),
		"one of before":  append(slices.Clone(full), batch(4, 1)...),
		"one of after":   append(slices.Clone(full), batch(9, 1)...),
		"negative index": append(slices.Clone(full), consent.StoredHash{Index: -1}),
		"none at all":    nil,
	} {
		if _, err := hashesPerEntry(5, 4, hs); !errors.Is(err, consent.ErrInvalid) {
			t.Errorf("hashesPerEntry(%s) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := hashesPerEntry(5, 0, batch(5, 1)); !errors.Is(err, consent.ErrInvalid) {
		t.Errorf("hashesPerEntry(hashes but no entries) = %v, want ErrInvalid", err)
	}
}

// The error contract, on the driver's own error values.
func TestErrorMapping(t *testing.T) {
	dup := mongo.WriteError{Index: 0, Code: 11000, Message: "E11000 duplicate key error"}
	wce := &mongo.WriteConcernError{Code: 64, Message: "waiting for replication timed out"}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"no document", mongo.ErrNoDocuments, consent.ErrNotFound},
		{"duplicate key", mongo.WriteException{WriteErrors: mongo.WriteErrors{dup}}, consent.ErrConflict},
		{"duplicate key in a bulk write", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: dup}}}, consent.ErrConflict},
		{"duplicate key without a majority", mongo.WriteException{WriteErrors: mongo.WriteErrors{dup}, WriteConcernError: wce}, consent.ErrUnavailable},
		{"write concern", mongo.WriteException{WriteConcernError: wce}, consent.ErrUnavailable},
		{"other write error", mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 121, Message: "validation"}}}, consent.ErrUnavailable},
		{"timeout", context.DeadlineExceeded, consent.ErrUnavailable},
		{"cancelled", context.Canceled, consent.ErrUnavailable},
		{"no primary", mongo.ErrClientDisconnected, consent.ErrUnavailable},
	} {
		got := fail("op", tc.err)
		if !errors.Is(got, tc.want) {
			t.Errorf("fail(%s) = %v, want %v", tc.name, got, tc.want)
		}
		for _, other := range []error{consent.ErrNotFound, consent.ErrConflict, consent.ErrUnavailable} {
			if other != tc.want && errors.Is(got, other) {
				t.Errorf("fail(%s) = %v, which also matches %v", tc.name, got, other)
			}
		}
	}
	if fail("op", nil) != nil {
		t.Errorf("fail(nil) != nil")
	}
}

// Only a duplicate on the batch's first entry means another instance got
// there first and nothing of the batch is stored.
func TestAppendError(t *testing.T) {
	dupAt := func(i int) mongo.WriteError {
		return mongo.WriteError{Index: i, Code: 11000, Message: "E11000 duplicate key error"}
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"none", nil, nil},
		{"duplicate first", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: dupAt(0)}}}, consent.ErrConflict},
		{"duplicate later", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: dupAt(2)}}}, consent.ErrUnavailable},
		{"duplicate first without a majority", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: dupAt(0)}},
			WriteConcernError: &mongo.WriteConcernError{Code: 64}}, consent.ErrUnavailable},
		{"majority not confirmed", mongo.BulkWriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64}}, consent.ErrUnavailable},
		{"network", context.DeadlineExceeded, consent.ErrUnavailable},
	} {
		got := appendError(7, tc.err)
		if (tc.want == nil) != (got == nil) || !errors.Is(got, tc.want) {
			t.Errorf("appendError(%s) = %v, want %v", tc.name, got, tc.want)
		}
		if tc.want == consent.ErrUnavailable && errors.Is(got, consent.ErrConflict) {
			t.Errorf("appendError(%s) = %v: a conflict would make the ledger retry a batch that may be partly stored", tc.name, got)
		}
	}
}
