package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"sayso/consent"
)

// Every table of the schema is either walked by Export or left out on
// purpose, so a table added later cannot be forgotten by migrate-store.
func TestExportCoversEveryTable(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "sayso.db"))
	rows, err := s.r.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	walked := map[string]bool{}
	for _, x := range exported {
		walked[x.table] = true
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !walked[name] && NotExported[name] == "" {
			t.Errorf("table %s is neither exported nor listed in NotExported with a reason", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

var t1 = time.Date(2025, 5, 6, 7, 8, 9, 10_000_000, time.UTC)

// fill stores a few records of every kind Export walks.
func fill(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	steps := []error{
		s.CreatePerson(ctx, consent.Person{ID: "yp1", Name: "sealed-name", Subject: "sub-yp1", BirthDate: t1.AddDate(-14, 0, 0), CreatedAt: t1}),
		s.CreatePerson(ctx, consent.Person{ID: "pro", Name: "Pro", Subject: "sub-pro", CreatedAt: t1}),
		s.CreatePerson(ctx, consent.Person{ID: "mum", Name: "Mum", CreatedAt: t1}),
		s.CreateOrganisation(ctx, consent.Organisation{ID: "org", Name: "Org", Kind: consent.OrgCouncil, CreatedAt: t1}),
		s.CreateMembership(ctx, consent.Membership{ID: "m1", PersonID: "pro", OrganisationID: "org", Role: consent.RoleSocialWorker, StartedAt: t1}),
		s.CreateMembership(ctx, consent.Membership{ID: "m0", PersonID: "pro", OrganisationID: "org", Role: consent.RoleTeacher, StartedAt: t1.Add(-time.Hour)}),
		s.EndMembership(ctx, "m0", t1),
		s.CreateFamilyLink(ctx, consent.FamilyLink{FamilyID: "mum", YoungPersonID: "yp1", Relationship: "mum", CanAct: true, CreatedAt: t1}),
		s.CreateHolding(ctx, consent.Holding{ID: "h1", OrganisationID: "org", YoungPersonID: "yp1", Category: "address", Since: t1, System: "sys", Summary: "sealed"}),
		s.PutPolicy(ctx, consent.Policy{YoungPersonID: "yp1", Version: 1}),
		s.PutPolicy(ctx, consent.Policy{YoungPersonID: "yp1", Version: 2, Grants: []consent.Grant{{ID: "g1", ProfessionalID: "pro", YoungPersonID: "yp1", Category: "address", Purpose: "visit", CreatedAt: t1, Until: t1.AddDate(0, 1, 0)}},
			Blocks: []consent.Block{{ProfessionalID: "other", CreatedBy: "yp1", CreatedAt: t1}}, Competence: []consent.Competence{{RecordedBy: "pro", RecordedAt: t1, Competent: true}}}),
		s.CreateRequest(ctx, consent.AccessRequest{ID: "r1", ProfessionalID: "pro", OrganisationID: "org", YoungPersonID: "yp1", Categories: []string{"address"}, Purpose: "visit",
			Reason: "sealed", DurationDays: 30, CreatedAt: t1, ExpiresAt: t1.AddDate(0, 0, 14), Status: consent.RequestApproved, Approved: []string{"address"}, DecidedBy: "yp1", DecidedAt: t1, GrantsApplied: true}),
		s.CreateConcern(ctx, consent.Concern{ID: "c1", LogIndex: 3, YoungPersonID: "yp1", RaisedBy: "yp1", OrganisationID: "org", Message: "sealed", CreatedAt: t1}),
		s.PutKey(ctx, consent.WrappedKey{YoungPersonID: "yp1", Wrapped: []byte{1, 2, 3}, KEKID: 42, CreatedAt: t1}),
		s.CreateSession(ctx, consent.Session{IDHash: "hash", PersonID: "yp1", CreatedAt: t1, LastSeenAt: t1, ExpiresAt: t1.Add(time.Hour)}),
		s.UseOnce(ctx, "nonce", time.Now().Add(time.Hour)),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("fill step %d: %v", i, err)
		}
	}
}

func exportAll(t *testing.T, s *Store) []any {
	t.Helper()
	var out []any
	if err := s.Export(t.Context(), func(v any) error { out = append(out, v); return nil }); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return out
}

func TestExportAndImport(t *testing.T) {
	src := open(t, filepath.Join(t.TempDir(), "src.db"))
	fill(t, src)
	got := exportAll(t, src)
	var kinds []string
	for _, v := range got {
		if k := fmt.Sprintf("%T", v); len(kinds) == 0 || kinds[len(kinds)-1] != k {
			kinds = append(kinds, k)
		}
	}
	want := []string{"consent.Person", "consent.Organisation", "consent.Membership", "consent.FamilyLink", "consent.Holding",
		"consent.Policy", "consent.AccessRequest", "consent.Concern", "consent.WrappedKey", "consent.Session"}
	if !slices.Equal(kinds, want) {
		t.Errorf("Export visited %v, want %v in that order", kinds, want)
	}
	if n, err := src.ExportCount(t.Context()); err != nil || n != int64(len(got)) {
		t.Errorf("ExportCount = %d, %v; want %d (what Export visited)", n, err, len(got))
	}
	// Policies keep their version; memberships keep their end.
	for _, v := range got {
		if p, ok := v.(consent.Policy); ok && (p.Version != 2 || len(p.Grants) != 1 || len(p.Blocks) != 1 || len(p.Competence) != 1) {
			t.Errorf("exported policy = %+v, want version 2 with its grant, block and competence", p)
		}
		if m, ok := v.(consent.Membership); ok && m.ID == "m0" && !m.EndedAt.Equal(t1.Truncate(time.Millisecond)) {
			t.Errorf("exported membership m0 ended %v, want %v", m.EndedAt, t1)
		}
	}

	// Copied record by record into another store, it exports the same.
	dst := open(t, filepath.Join(t.TempDir(), "dst.db"))
	ctx := t.Context()
	for _, v := range got {
		var err error
		switch v := v.(type) {
		case consent.Person:
			err = dst.CreatePerson(ctx, v)
		case consent.Organisation:
			err = dst.CreateOrganisation(ctx, v)
		case consent.Membership:
			err = dst.CreateMembership(ctx, v)
		case consent.FamilyLink:
			err = dst.CreateFamilyLink(ctx, v)
		case consent.Holding:
			err = dst.CreateHolding(ctx, v)
		case consent.Policy:
			err = dst.ImportPolicy(ctx, v)
		case consent.AccessRequest:
			err = dst.CreateRequest(ctx, v)
		case consent.Concern:
			err = dst.CreateConcern(ctx, v)
		case consent.WrappedKey:
			err = dst.PutKey(ctx, v)
		case consent.Session:
			err = dst.CreateSession(ctx, v)
		default:
			t.Fatalf("unexpected %T", v)
		}
		if err != nil {
			t.Fatalf("copy %T: %v", v, err)
		}
	}
	if again := exportAll(t, dst); !reflect.DeepEqual(again, got) {
		t.Errorf("the copy exports\n%+v\nwant\n%+v", again, got)
	}
}

func TestImportPolicy(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "sayso.db"))
	ctx := t.Context()
	p := consent.Policy{YoungPersonID: "yp", Version: 7, Grants: []consent.Grant{{ID: "g", ProfessionalID: "pro", YoungPersonID: "yp", Category: "address", Purpose: "visit", CreatedAt: t1.Truncate(time.Millisecond)}}}
	if err := s.ImportPolicy(ctx, p); err != nil {
		t.Fatalf("ImportPolicy(version 7) = %v", err)
	}
	if got, err := s.GetPolicy(ctx, "yp"); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("GetPolicy = %+v, %v; want %+v", got, err, p)
	}
	if err := s.ImportPolicy(ctx, p); !errors.Is(err, consent.ErrConflict) {
		t.Errorf("ImportPolicy again = %v, want ErrConflict", err)
	}
	if err := s.ImportPolicy(ctx, consent.Policy{YoungPersonID: "other"}); !errors.Is(err, consent.ErrInvalid) {
		t.Errorf("ImportPolicy(version 0) = %v, want ErrInvalid", err)
	}
	// The version carries on from where it was imported.
	p.Version = 8
	if err := s.PutPolicy(ctx, p); err != nil {
		t.Errorf("PutPolicy(version 8) after importing 7 = %v", err)
	}
}

// Export reads one snapshot: what is written while it walks is not visited.
func TestExportIsOneSnapshot(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "sayso.db"))
	fill(t, s)
	ctx := t.Context()
	var people []string
	err := s.Export(ctx, func(v any) error {
		if p, ok := v.(consent.Person); ok {
			people = append(people, p.ID)
			if p.ID == "mum" {
				return s.CreatePerson(ctx, consent.Person{ID: "zed", Name: "Zed"})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(people, []string{"mum", "pro", "yp1"}) {
		t.Errorf("Export visited people %v, want the three there when it began", people)
	}
	if _, err := s.GetPerson(ctx, "zed"); err != nil {
		t.Errorf("the person written during the walk is not stored: %v", err)
	}
}

func TestExportStopsOnVisitError(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "sayso.db"))
	fill(t, s)
	stop := errors.New("stop")
	n := 0
	err := s.Export(t.Context(), func(any) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Export with a failing visit = %v after %d visits, want the visit's error after 1", err, n)
	}
}
