package mongo

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"sayso/consent"
)

// Needs a server, like the conformance suite (see mongo_test.go).
func TestImportPolicy(t *testing.T) {
	uri := serverURI(t)
	s := open(t, uri, freshDatabase(t), true)
	ctx := t.Context()
	created := time.Date(2025, 5, 6, 7, 8, 9, 10_000_000, time.UTC)
	p := consent.Policy{YoungPersonID: "yp", Version: 7, Grants: []consent.Grant{{ID: "g", ProfessionalID: "pro", YoungPersonID: "yp", Category: "address", Purpose: "visit", CreatedAt: created}}}
	if err := s.ImportPolicy(ctx, p); err != nil {
		t.Fatalf("ImportPolicy(version 7) = %v", err)
	}
	if got, err := s.GetPolicy(ctx, "yp"); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("GetPolicy = %+v, %v; want %+v", got, err, p)
	}
	if err := s.ImportPolicy(ctx, p); !errors.Is(err, consent.ErrConflict) {
		t.Errorf("ImportPolicy again = %v, want ErrConflict", err)
	}
	p.Version = 8
	if err := s.PutPolicy(ctx, p); err != nil {
		t.Errorf("PutPolicy(version 8) after importing 7 = %v", err)
	}
}

// These need no server.

func TestImportPolicyRefusesVersionZero(t *testing.T) {
	var s Store // refused before any use of the client
	if err := s.ImportPolicy(t.Context(), consent.Policy{YoungPersonID: "yp"}); !errors.Is(err, consent.ErrInvalid) {
		t.Errorf("ImportPolicy(version 0) = %v, want ErrInvalid", err)
	}
}

func TestValidateDatabaseNameExported(t *testing.T) {
	if err := ValidateDatabaseName("sayso"); err != nil {
		t.Errorf("ValidateDatabaseName(sayso) = %v", err)
	}
	if err := ValidateDatabaseName("a.b"); err == nil {
		t.Error("ValidateDatabaseName(a.b) = nil, want an error")
	}
}
