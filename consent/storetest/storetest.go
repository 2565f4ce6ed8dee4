// Package storetest is the conformance suite every consent.Store backend
// runs: each backend's test calls Run with a factory for fresh stores.
package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"sayso/consent"
)

// Run runs the whole suite. newStore must return a fresh, empty store and
// register its own cleanup on t; every subtest gets its own.
func Run(t *testing.T, newStore func(t *testing.T) consent.Store) {
	groups := []struct {
		name string
		run  func(*testing.T, func(*testing.T) consent.Store)
	}{
		{"People", testPeople},
		{"Organisations", testOrganisations},
		{"Memberships", testMemberships},
		{"Family", testFamily},
		{"Holdings", testHoldings},
		{"Policy", testPolicy},
		{"Requests", testRequests},
		{"Sessions", testSessions},
		{"UseOnce", testUseOnce},
		{"Times", testTimes},
		{"Ping", testPing},
		{"Log", testLog}, {"Keys", testKeys},
		{"Concerns", testConcerns}, {"Directory", testDirectory},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, newStore) })
	}
}

// Times are written with nanoseconds and away from UTC, so a store that
// keeps either shows up; they must come back as consent.Millis gives them.
var (
	zone = time.FixedZone("X", 5*3600)
	base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone)
)

const day = 24 * time.Hour

func at(d time.Duration) time.Time { return base.Add(d) }

// must stops the test when a setup step fails.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr checks err with errors.Is; a nil want means no error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s error = %v, want %v", what, err, want)
	}
}

// same compares what a store returned with what was written: want's times
// are normalised with consent.Millis, got's are taken as they are, and an
// empty slice equals a nil one on both sides (backends may return either).
func same[T any](got, want T) bool {
	return reflect.DeepEqual(normal(got, false), normal(want, true))
}

var timeType = reflect.TypeFor[time.Time]()

func normal[T any](x T, millis bool) T {
	normalise(reflect.ValueOf(&x).Elem(), millis)
	return x
}

// normalise rewrites v in place, copying slices first so the caller's
// values are untouched.
func normalise(v reflect.Value, millis bool) {
	if v.Type() == timeType {
		if millis {
			v.Set(reflect.ValueOf(consent.Millis(v.Interface().(time.Time))))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			normalise(v.Field(i), millis)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		v.Set(c)
		for i := range c.Len() {
			normalise(c.Index(i), millis)
		}
	}
}

// ids lists the ids of records, in order, for messages and order checks.
func ids[T any](xs []T, id func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

// Fixtures: every field set, so a column a backend forgets shows up.

func person(id string) consent.Person {
	return consent.Person{
		ID: id, Name: "Person " + id, Subject: "subject-" + id,
		BirthDate: at(-14 * 365 * day), Operator: true, CreatedAt: at(0),
	}
}

func organisation(id string) consent.Organisation {
	return consent.Organisation{ID: id, Name: "Org " + id, Kind: consent.OrgSchool, CreatedAt: at(time.Hour)}
}

func membership(id, personID string, started time.Time) consent.Membership {
	return consent.Membership{
		ID: id, PersonID: personID, OrganisationID: "org-1", Role: consent.RoleTeacher,
		StartedAt: started, EndedAt: started.Add(300 * day),
	}
}

func familyLink(familyID, youngPersonID string) consent.FamilyLink {
	return consent.FamilyLink{
		FamilyID: familyID, YoungPersonID: youngPersonID, Relationship: "grandad",
		CanAct: true, CreatedAt: at(2 * time.Hour),
	}
}

func holding(id, orgID, youngPersonID, category string) consent.Holding {
	return consent.Holding{
		ID: id, OrganisationID: orgID, YoungPersonID: youngPersonID, Category: category,
		Since: at(-30 * day), System: "the school's pupil system", Summary: "attendance and reports",
	}
}

func session(hash, personID string) consent.Session {
	now := time.Now().In(zone)
	return consent.Session{
		IDHash: hash, PersonID: personID, CreatedAt: now, LastSeenAt: now.Add(time.Minute), ExpiresAt: now.Add(12 * time.Hour),
	}
}
