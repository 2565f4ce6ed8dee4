// Package demo creates the demonstration people, organisations and holdings
// that development mode starts with, so every journey has someone real to
// sign in as.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sayso/consent"
)

// Person is one demo person as the development identity provider lists them.
type Person struct {
	ID, Name string
}

// People returns the demo people in the order the sign-in picker shows them.
func People() []Person {
	return []Person{
		{"amara", "Amara Okafor"},
		{"leo", "Leo Williams"},
		{"mia", "Mia Hart"},
		{"grace", "Grace Williams"},
		{"ruth", "Ruth Okafor"},
		{"sam", "Sam Patel"},
		{"rosa", "Rosa Green"},
		{"priya", "Priya Shah"},
		{"jo", "Jo Brennan"},
		{"dana", "Dana Lewis"},
		{"ola", "Ola Martins"},
	}
}

// HolderClient is the demo holder system's OAuth2 client id.
const HolderClient = "riverside-case-system"

// HolderSecret is the demo holder system's secret; it only exists in
// development mode.
const HolderSecret = "demo-holder-secret"

// HolderOrganisation is the organisation the demo holder system belongs to.
const HolderOrganisation = "riverside-council"

// Seed creates the demo data if it is not there yet. It is safe to run on
// every start and after a start that was cut short: records that already
// exist are left alone.
func Seed(ctx context.Context, store consent.Store, now time.Time) error {
	now = consent.Millis(now)
	ago := func(years, days int) time.Time { return now.AddDate(-years, 0, -days) }
	names := map[string]string{}
	for _, p := range People() {
		names[p.ID] = p.Name
	}
	person := func(id string) consent.Person {
		return consent.Person{ID: id, Name: names[id], Subject: id, CreatedAt: now}
	}
	amara, leo := person("amara"), person("leo")
	amara.BirthDate = ago(15, 100)
	leo.BirthDate = ago(11, 40)
	mia := person("mia") // 12: decides once a professional records she can
	mia.BirthDate = ago(12, 200)
	ola := person("ola")
	ola.Operator = true

	var steps []func() error
	for _, p := range []consent.Person{amara, leo, mia, person("grace"), person("ruth"), person("sam"), person("rosa"), person("priya"), person("jo"), person("dana"), ola} {
		steps = append(steps, func() error { return store.CreatePerson(ctx, p) })
	}
	for _, o := range []consent.Organisation{
		{ID: "riverside-council", Name: "Riverside Council", Kind: consent.OrgCouncil, CreatedAt: now},
		{ID: "northfield-academy", Name: "Northfield Academy", Kind: consent.OrgSchool, CreatedAt: now},
		{ID: "youth-hub", Name: "Youth Hub", Kind: consent.OrgCharity, CreatedAt: now},
	} {
		steps = append(steps, func() error { return store.CreateOrganisation(ctx, o) })
	}
	for _, m := range []consent.Membership{
		{ID: "m-sam", PersonID: "sam", OrganisationID: "riverside-council", Role: consent.RoleSocialWorker, StartedAt: ago(3, 0)},
		{ID: "m-rosa", PersonID: "rosa", OrganisationID: "riverside-council", Role: consent.RoleSocialWorker, StartedAt: ago(1, 0)},
		{ID: "m-priya", PersonID: "priya", OrganisationID: "northfield-academy", Role: consent.RoleTeacher, StartedAt: ago(5, 0)},
		{ID: "m-jo", PersonID: "jo", OrganisationID: "youth-hub", Role: consent.RoleYouthWorker, StartedAt: ago(2, 0)},
		{ID: "m-dana", PersonID: "dana", OrganisationID: "riverside-council", Role: consent.RoleDPO, StartedAt: ago(4, 0)},
	} {
		steps = append(steps, func() error { return store.CreateMembership(ctx, m) })
	}
	steps = append(steps, func() error {
		return store.CreateFamilyLink(ctx, consent.FamilyLink{FamilyID: "grace", YoungPersonID: "leo", Relationship: "mum", CanAct: true, CreatedAt: now})
	}, func() error {
		// Amara decides for herself: her gran sees only what Amara chooses.
		return store.CreateFamilyLink(ctx, consent.FamilyLink{FamilyID: "ruth", YoungPersonID: "amara", Relationship: "gran", CanAct: true, CreatedAt: now})
	})
	for _, h := range []consent.Holding{
		{ID: "h-amara-address", OrganisationID: "riverside-council", YoungPersonID: "amara", Category: "address", Since: ago(2, 30), System: "Riverside Council's social care records", Summary: "14 Willow Road, Riverside, RV1 2AB"},
		{ID: "h-amara-phone", OrganisationID: "riverside-council", YoungPersonID: "amara", Category: "phone", Since: ago(2, 30), System: "Riverside Council's social care records", Summary: "07700 900123"},
		{ID: "h-amara-social-care", OrganisationID: "riverside-council", YoungPersonID: "amara", Category: "social-care", Since: ago(2, 30), System: "Riverside Council's social care records", Summary: "Support plan agreed with Amara; family time with her gran every other Saturday."},
		{ID: "h-amara-education", OrganisationID: "northfield-academy", YoungPersonID: "amara", Category: "education", Since: ago(4, 200), System: "Northfield Academy's school records", Summary: "Year 10. Extra maths help on Tuesdays."},
		{ID: "h-amara-youth-work", OrganisationID: "youth-hub", YoungPersonID: "amara", Category: "youth-work", Since: ago(1, 10), System: "Youth Hub's notes", Summary: "Comes to Thursday music group; wants to learn guitar."},
		{ID: "h-leo-address", OrganisationID: "riverside-council", YoungPersonID: "leo", Category: "address", Since: ago(1, 0), System: "Riverside Council's social care records", Summary: "3 Station Lane, Riverside, RV4 7CD"},
		{ID: "h-leo-education", OrganisationID: "northfield-academy", YoungPersonID: "leo", Category: "education", Since: ago(0, 300), System: "Northfield Academy's school records", Summary: "Year 7. Settling in well; reading support twice a week."},
		{ID: "h-leo-health", OrganisationID: "northfield-academy", YoungPersonID: "leo", Category: "health", Since: ago(0, 300), System: "Northfield Academy's school nurse notes", Summary: "Asthma; inhaler kept in the school office."},
		{ID: "h-leo-social-care", OrganisationID: "riverside-council", YoungPersonID: "leo", Category: "social-care", Since: ago(0, 200), System: "Riverside Council's social care records", Summary: "Child in need plan; weekly visits from Sam."},
		{ID: "h-mia-address", OrganisationID: "riverside-council", YoungPersonID: "mia", Category: "address", Since: ago(0, 60), System: "Riverside Council's social care records", Summary: "22 Canal Street, Riverside, RV2 9EF"},
		{ID: "h-leo-youth-work", OrganisationID: "youth-hub", YoungPersonID: "leo", Category: "youth-work", Since: ago(0, 90), System: "Youth Hub's notes", Summary: "Saturday football club."},
	} {
		steps = append(steps, func() error { return store.CreateHolding(ctx, h) })
	}
	for i, step := range steps {
		// Already there, or belongs to someone who has been erased.
		if err := step(); err != nil && !errors.Is(err, consent.ErrConflict) && !errors.Is(err, consent.ErrErased) {
			return fmt.Errorf("demo data step %d: %w", i, err)
		}
	}
	return nil
}
