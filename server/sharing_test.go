package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"sayso/consent"
	"sayso/demo"
	"sayso/internal/testenv"
)

// call sends a JSON request (body may be nil) and decodes the JSON answer.
func call(t *testing.T, env *testenv.Env, c *http.Client, method, path string, body any) (int, map[string]any) {
	t.Helper()
	req, err := jsonRequest(method, env.URL+path, env.URL, "", body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out)
	}
	return resp.StatusCode, out
}

func mustStatus(t *testing.T, what string, got, want int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %d %v, want %d", what, got, body, want)
	}
}

func grant(t *testing.T, env *testenv.Env, c *http.Client, yp, prof, category, purpose string) string {
	t.Helper()
	status, body := call(t, env, c, http.MethodPost, "/v1/young-people/"+yp+"/grants", map[string]any{"professionalId": prof, "category": category, "purpose": purpose})
	mustStatus(t, "POST grants", status, http.StatusCreated, body)
	return body["grant"].(map[string]any)["id"].(string)
}

// read is a professional's read; it returns the status and, if refused, the
// problem type.
func read(t *testing.T, env *testenv.Env, c *http.Client, yp, category, purpose string) (int, string) {
	t.Helper()
	status, body := call(t, env, c, http.MethodGet, "/v1/young-people/"+yp+"/records/"+category+"?purpose="+url.QueryEscape(purpose), nil)
	typ, _ := body["type"].(string)
	return status, strings.TrimPrefix(typ, "urn:sayso:problem:")
}

func TestSharing_Scenarios(t *testing.T) {
	t.Run("GrantThenReadAllowed", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		grant(t, env, amara, "amara", "sam", "address", "home-visit")
		status, body := call(t, env, sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
		mustStatus(t, "read address", status, http.StatusOK, body)
		recs := body["records"].([]any)
		if len(recs) != 1 || !strings.Contains(recs[0].(map[string]any)["content"].(string), "Willow Road") {
			t.Errorf("records = %v, want Amara's address", recs)
		}
	})

	t.Run("ParentCategoryCoversChildren", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		grant(t, env, amara, "amara", "sam", "contact", "home-visit")
		for _, cat := range []string{"contact", "address", "phone"} {
			if status, _ := read(t, env, sam, "amara", cat, "home-visit"); status != http.StatusOK {
				t.Errorf("read %s under a contact grant = %d, want 200", cat, status)
			}
		}
		status, body := call(t, env, sam, http.MethodGet, "/v1/young-people/amara/records/contact?purpose=home-visit", nil)
		if status != http.StatusOK || len(body["records"].([]any)) != 2 {
			t.Errorf("read contact = %d with %v, want address and phone", status, body["records"])
		}
	})

	t.Run("StopThenNextReadDenied", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		id := grant(t, env, amara, "amara", "sam", "address", "home-visit")
		if status, _ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusOK {
			t.Fatalf("read before stop = %d, want 200", status)
		}
		status, body := call(t, env, amara, http.MethodDelete, "/v1/young-people/amara/grants/"+id, nil)
		mustStatus(t, "DELETE grant", status, http.StatusOK, body)
		if status, typ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusForbidden || typ != "refused:sharing-stopped" {
			t.Errorf("read after stop = %d %s, want 403 refused:sharing-stopped", status, typ)
		}
		status, body = call(t, env, amara, http.MethodDelete, "/v1/young-people/amara/grants/"+id, nil)
		mustStatus(t, "DELETE grant again", status, http.StatusConflict, body)
	})

	t.Run("Refusals", func(t *testing.T) {
		env := testenv.New(t)
		amara, leo, grace, sam, priya := env.SignIn(t, "amara"), env.SignIn(t, "leo"), env.SignIn(t, "grace"), env.SignIn(t, "sam"), env.SignIn(t, "priya")
		grant(t, env, amara, "amara", "sam", "address", "home-visit")
		grant(t, env, amara, "amara", "priya", "education", "education-support")
		grant(t, env, grace, "leo", "priya", "education", "education-support")
		_ = leo
		tests := []struct {
			name     string
			who      *http.Client
			yp, cat  string
			purpose  string
			wantType string
		}{
			{"WrongPurpose", sam, "amara", "address", "plan-support", "refused:purpose-not-granted"},
			{"CategoryNotGranted", sam, "amara", "phone", "home-visit", "refused:category-not-granted"},
			{"AnotherYoungPerson", sam, "leo", "address", "home-visit", "refused:no-sharing"},
			{"NoSuchYoungPersonLooksTheSame", sam, "nobody-at-all", "address", "home-visit", "refused:no-sharing"},
			{"UnknownPurpose", sam, "amara", "address", "curiosity", "refused:unknown-purpose"},
			{"YoungPersonIsNotAProfessional", amara, "leo", "education", "education-support", "refused:not-a-professional"},
			{"ParentIsNotAProfessional", grace, "leo", "education", "education-support", "refused:not-a-professional"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, typ := read(t, env, tt.who, tt.yp, tt.cat, tt.purpose)
				if status != http.StatusForbidden || typ != tt.wantType {
					t.Errorf("read %s/%s for %s = %d %s, want 403 %s", tt.yp, tt.cat, tt.purpose, status, typ, tt.wantType)
				}
			})
		}
		if status, _ := read(t, env, priya, "leo", "education", "education-support"); status != http.StatusOK {
			t.Errorf("Priya reads Leo's education (granted by Grace) = %d, want 200", status)
		}
	})

	t.Run("ExpiredGrantDenied", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		until := env.Clock.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/grants", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit", "until": until})
		mustStatus(t, "POST grant", status, http.StatusCreated, body)
		if status, _ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusOK {
			t.Fatalf("read before expiry = %d, want 200", status)
		}
		env.Clock.Advance(49 * time.Hour)
		sam = env.SignIn(t, "sam") // the old session went idle while the clock jumped
		if status, typ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusForbidden || typ != "refused:sharing-ended" {
			t.Errorf("read after expiry = %d %s, want 403 refused:sharing-ended", status, typ)
		}
	})

	t.Run("MembershipEndedDenied", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		grant(t, env, amara, "amara", "sam", "address", "home-visit")
		if err := env.App.Store.EndMembership(context.Background(), "m-sam", env.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if status, typ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusForbidden || typ != "refused:membership-ended" {
			t.Errorf("read after leaving = %d %s, want 403 refused:membership-ended", status, typ)
		}
	})

	t.Run("LeaverWhoJoinsAnotherOrganisationKeepsNothing", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		grant(t, env, amara, "amara", "sam", "address", "home-visit")
		ctx, now := context.Background(), env.Clock.Now()
		if err := env.App.Store.EndMembership(ctx, "m-sam", now); err != nil {
			t.Fatal(err)
		}
		if err := env.App.Store.CreateMembership(ctx, consent.Membership{ID: "m-sam-2", PersonID: "sam", OrganisationID: "youth-hub", Role: consent.RoleYouthWorker, StartedAt: now}); err != nil {
			t.Fatal(err)
		}
		if status, typ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusForbidden || typ != "refused:membership-ended" {
			t.Errorf("read by Sam at his new organisation = %d %s, want 403 refused:membership-ended", status, typ)
		}
		// Riverside's own system is told no as well, and Dana sees the question.
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/v1/decisions", jsonBody(map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "home-visit"}))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+holderToken(t, env))
		resp, err := env.Client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if out["decision"] != "deny" || out["reason"] != "membership-ended" {
			t.Errorf("holder decision for a leaver = %v, want deny membership-ended", out)
		}
		status, body := call(t, env, env.SignIn(t, "dana"), http.MethodGet, "/v1/organisations/riverside-council/disclosures?outcome=denied", nil)
		if status != http.StatusOK || len(body["disclosures"].([]any)) != 1 {
			t.Errorf("Riverside's denied entries = %d %v, want the leaver's one", status, body)
		}
	})

	t.Run("BlockedProfessionalCannotAsk", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/blocks", map[string]any{"professionalId": "sam"})
		mustStatus(t, "POST block", status, http.StatusNoContent, body)
		status, body = call(t, env, sam, http.MethodPost, "/v1/young-people/amara/requests", map[string]any{"categories": []string{"address"}, "purpose": "home-visit", "reason": "Please."})
		mustStatus(t, "blocked professional asks", status, http.StatusNotFound, body)
	})

	t.Run("BlockedDenied", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		grant(t, env, amara, "amara", "sam", "address", "home-visit")
		status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/blocks", map[string]any{"professionalId": "sam"})
		mustStatus(t, "POST block", status, http.StatusNoContent, body)
		if status, typ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusForbidden || typ != "refused:blocked" {
			t.Errorf("read when blocked = %d %s, want 403 refused:blocked", status, typ)
		}
		status, body = call(t, env, amara, http.MethodDelete, "/v1/young-people/amara/blocks/sam", nil)
		mustStatus(t, "DELETE block", status, http.StatusNoContent, body)
		if status, _ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusOK {
			t.Errorf("read after unblocking = %d, want 200", status)
		}
	})

	t.Run("RequestPartlyApproved", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		status, body := call(t, env, sam, http.MethodPost, "/v1/young-people/amara/requests", map[string]any{
			"categories": []string{"address", "phone", "social-care"}, "purpose": "plan-support", "reason": "I'm your new social worker and want to plan our first meeting.", "durationDays": 90})
		mustStatus(t, "POST request", status, http.StatusCreated, body)
		reqID := body["id"].(string)
		if body["status"] != "waiting" {
			t.Errorf("new request status = %v, want waiting", body["status"])
		}
		status, body = call(t, env, amara, http.MethodPost, "/v1/young-people/amara/requests/"+reqID+"/decision", map[string]any{"approve": []string{"address"}, "message": "Only my address for now."})
		mustStatus(t, "POST decision", status, http.StatusOK, body)
		if got := body["request"].(map[string]any)["status"]; got != "partly-approved" {
			t.Errorf("decision status = %v, want partly-approved", got)
		}
		if n := len(body["grants"].([]any)); n != 1 {
			t.Errorf("grants created = %d, want 1", n)
		}
		if status, _ := read(t, env, sam, "amara", "address", "plan-support"); status != http.StatusOK {
			t.Errorf("read approved address = %d, want 200", status)
		}
		for _, cat := range []string{"phone", "social-care"} {
			if status, typ := read(t, env, sam, "amara", cat, "plan-support"); status != http.StatusForbidden || typ != "refused:category-not-granted" {
				t.Errorf("read unapproved %s = %d %s, want 403 refused:category-not-granted", cat, status, typ)
			}
		}
		status, body = call(t, env, amara, http.MethodPost, "/v1/young-people/amara/requests/"+reqID+"/decision", map[string]any{"approve": []string{"phone"}})
		mustStatus(t, "second decision", status, http.StatusConflict, body)
		// Sam sees his request and Amara's message back.
		status, body = call(t, env, sam, http.MethodGet, "/v1/young-people/amara/requests", nil)
		mustStatus(t, "GET requests as Sam", status, http.StatusOK, body)
		rs := body["requests"].([]any)
		if len(rs) != 1 || rs[0].(map[string]any)["message"] != "Only my address for now." {
			t.Errorf("Sam's requests = %v, want one with Amara's message", rs)
		}
	})

	t.Run("RequestDeclinedAndExpired", func(t *testing.T) {
		env := testenv.New(t)
		amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
		ask := func() string {
			status, body := call(t, env, sam, http.MethodPost, "/v1/young-people/amara/requests", map[string]any{"categories": []string{"address"}, "purpose": "home-visit", "reason": "To plan a visit."})
			mustStatus(t, "POST request", status, http.StatusCreated, body)
			return body["id"].(string)
		}
		declined := ask()
		status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/requests/"+declined+"/decision", map[string]any{"approve": []string{}})
		mustStatus(t, "decline", status, http.StatusOK, body)
		if body["request"].(map[string]any)["status"] != "declined" {
			t.Errorf("declined status = %v, want declined", body["request"])
		}
		late := ask()
		env.Clock.Advance(15 * 24 * time.Hour)
		amara = env.SignIn(t, "amara")
		status, body = call(t, env, amara, http.MethodPost, "/v1/young-people/amara/requests/"+late+"/decision", map[string]any{"approve": []string{"address"}})
		mustStatus(t, "answer after 15 days", status, http.StatusConflict, body)
		status, body = call(t, env, amara, http.MethodGet, "/v1/young-people/amara/requests", nil)
		mustStatus(t, "GET requests", status, http.StatusOK, body)
		for _, r := range body["requests"].([]any) {
			m := r.(map[string]any)
			if m["id"] == late && m["status"] != "expired" {
				t.Errorf("unanswered request after 15 days = %v, want expired", m["status"])
			}
		}
	})

	t.Run("RequestFromStrangerLooksLikeNobody", func(t *testing.T) {
		env := testenv.New(t)
		jo := env.SignIn(t, "jo") // Youth Hub holds nothing about "ghost" and "ghost" does not exist
		status, body := call(t, env, jo, http.MethodPost, "/v1/young-people/ghost/requests", map[string]any{"categories": []string{"address"}, "purpose": "home-visit", "reason": "x"})
		mustStatus(t, "ask about nobody", status, http.StatusNotFound, body)
	})

	t.Run("BadInputChangesNothing", func(t *testing.T) {
		env := testenv.New(t)
		amara := env.SignIn(t, "amara")
		tests := []struct {
			name string
			body any
			want string
		}{
			{"UnknownCategory", map[string]any{"professionalId": "sam", "category": "diary", "purpose": "home-visit"}, "category"},
			{"UnknownPurpose", map[string]any{"professionalId": "sam", "category": "address", "purpose": "fun"}, "purpose"},
			{"NotAProfessional", map[string]any{"professionalId": "leo", "category": "address", "purpose": "home-visit"}, "professionalId"},
			{"TooLong", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit", "until": time.Now().AddDate(3, 0, 0).Format(time.RFC3339)}, "until"},
			{"InThePast", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit", "until": time.Now().AddDate(0, 0, -1).Format(time.RFC3339)}, "until"},
			{"UnknownField", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit", "forever": true}, "body"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/grants", tt.body)
				if status != http.StatusBadRequest || body["field"] != tt.want {
					t.Errorf("POST grants %s = %d %v, want 400 naming %q", tt.name, status, body, tt.want)
				}
			})
		}
		status, body := call(t, env, amara, http.MethodGet, "/v1/young-people/amara/grants", nil)
		mustStatus(t, "GET grants", status, http.StatusOK, body)
		if n := len(body["grants"].([]any)); n != 0 {
			t.Errorf("grants after only bad input = %d, want 0", n)
		}
	})
}

func TestSharing_WhoDecides(t *testing.T) {
	env := testenv.New(t)
	body := map[string]any{"professionalId": "priya", "category": "education", "purpose": "education-support"}
	tests := []struct {
		who, yp string
		want    int
	}{
		{"grace", "leo", http.StatusCreated},   // Leo is 11: his mum decides
		{"leo", "leo", http.StatusForbidden},   // and he cannot yet
		{"amara", "amara", http.StatusCreated}, // Amara is 15
		{"grace", "amara", http.StatusNotFound},
		{"sam", "amara", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.who+"/"+tt.yp, func(t *testing.T) {
			status, resp := call(t, env, env.SignIn(t, tt.who), http.MethodPost, "/v1/young-people/"+tt.yp+"/grants", body)
			if status != tt.want {
				t.Errorf("%s grants for %s = %d %v, want %d", tt.who, tt.yp, status, resp, tt.want)
			}
		})
	}

	t.Run("CompetenceLetsATwelveYearOldDecide", func(t *testing.T) {
		// Mia (12, demo data) has no family link: nobody decides until she is assessed.
		mia := env.SignIn(t, "mia")
		if status, resp := call(t, env, mia, http.MethodPost, "/v1/young-people/mia/grants", body); status != http.StatusForbidden {
			t.Fatalf("Mia (12) grants before assessment = %d %v, want 403", status, resp)
		}
		// Jo's organisation holds nothing about Mia: she may not assess her.
		if status, _ := call(t, env, env.SignIn(t, "jo"), http.MethodPost, "/v1/young-people/mia/competence", map[string]any{"competent": true}); status != http.StatusNotFound {
			t.Errorf("Jo records competence for Mia = %d, want 404", status)
		}
		status, resp := call(t, env, env.SignIn(t, "sam"), http.MethodPost, "/v1/young-people/mia/competence", map[string]any{"competent": true, "note": "Talked it through; Mia understands what sharing means."})
		mustStatus(t, "Sam records competence", status, http.StatusNoContent, resp)
		if status, resp := call(t, env, mia, http.MethodPost, "/v1/young-people/mia/grants", body); status != http.StatusCreated {
			t.Errorf("Mia (12) grants after assessment = %d %v, want 201", status, resp)
		}
		_, me := getMe(t, mia, env.URL)
		if len(me.ActsFor) != 1 || me.ActsFor[0].ID != "mia" {
			t.Errorf("Mia's actsFor after assessment = %v, want herself", me.ActsFor)
		}
	})
}

func TestReceipts_VerifyWithIndependentLibrary(t *testing.T) {
	env := testenv.New(t)
	amara := env.SignIn(t, "amara")
	status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/grants", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit"})
	mustStatus(t, "POST grant", status, http.StatusCreated, body)
	given := body["receipt"].(string)
	status, body = call(t, env, amara, http.MethodDelete, "/v1/young-people/amara/grants/"+body["grant"].(map[string]any)["id"].(string), nil)
	mustStatus(t, "DELETE grant", status, http.StatusOK, body)
	withdrawn := body["receipt"].(string)

	resp, err := env.Client(t).Get(env.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	set, err := jwk.Parse(raw)
	if err != nil {
		t.Fatalf("jwk.Parse(JWKS) = %v", err)
	}
	for _, tt := range []struct {
		receipt, event, state string
	}{{given, "given", "active"}, {withdrawn, "withdrawn", "withdrawn"}} {
		payload, err := jws.Verify([]byte(tt.receipt), jws.WithKeySet(set, jws.WithRequireKid(true)))
		if err != nil {
			t.Fatalf("jws.Verify(%s receipt) = %v, want nil", tt.event, err)
		}
		var r struct {
			RecordID    string `json:"recordId"`
			Principal   struct{ ID string }
			Controllers []struct{ ID string }
			Recipient   struct{ ID string }
			Purposes    []struct{ ID, LawfulBasis string }
			Categories  []string `json:"dataCategories"`
			Validity    struct{ From, Until time.Time }
			Event       struct{ Type, State, Actor string }
			Iss         string
		}
		if err := json.Unmarshal(payload, &r); err != nil {
			t.Fatal(err)
		}
		if r.Principal.ID != "amara" || r.Recipient.ID != "sam" || len(r.Controllers) != 1 || r.Controllers[0].ID != "riverside-council" ||
			len(r.Purposes) != 1 || r.Purposes[0].ID != "home-visit" || r.Purposes[0].LawfulBasis != "consent" ||
			len(r.Categories) != 1 || r.Categories[0] != "address" || r.Event.Type != tt.event || r.Event.State != tt.state ||
			r.Event.Actor != "amara" || r.Iss != env.URL || r.RecordID == "" || !r.Validity.Until.After(r.Validity.From) {
			t.Errorf("%s receipt = %+v, want Amara's grant to Sam with every field", tt.event, r)
		}
		// Changing one byte of the payload breaks it.
		parts := strings.Split(tt.receipt, ".")
		tampered := parts[0] + "." + flip(parts[1]) + "." + parts[2]
		if _, err := jws.Verify([]byte(tampered), jws.WithKey(jwa.EdDSA(), mustKey(t, set))); err == nil {
			t.Errorf("jws.Verify(tampered %s receipt) = nil, want an error", tt.event)
		}
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}

func mustKey(t *testing.T, set jwk.Set) jwk.Key {
	k, ok := set.Key(0)
	if !ok {
		t.Fatal("JWKS has no key")
	}
	return k
}

func TestDecisions_HolderSystem(t *testing.T) {
	env := testenv.New(t)
	amara := env.SignIn(t, "amara")
	grant(t, env, amara, "amara", "sam", "address", "home-visit")
	token := holderToken(t, env)
	tests := []struct {
		name       string
		token      string
		body       map[string]any
		wantStatus int
		wantResult string
	}{
		{"Permit", token, map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "home-visit"}, 200, "permit"},
		{"DenyWrongPurpose", token, map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "plan-support"}, 200, "deny"},
		{"OtherOrganisationsProfessional", token, map[string]any{"professionalId": "priya", "youngPersonId": "amara", "category": "education", "purpose": "education-support"}, 403, ""},
		{"NoToken", "", map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "home-visit"}, 401, ""},
		{"GarbageToken", "not.a.token", map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "home-visit"}, 401, ""},
		{"MissingField", token, map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address"}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(tt.body)
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/v1/decisions", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := env.Client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || (tt.wantResult != "" && out["decision"] != tt.wantResult) {
				t.Errorf("POST /v1/decisions %s = %d %v, want %d %s", tt.name, resp.StatusCode, out, tt.wantStatus, tt.wantResult)
			}
		})
	}
	t.Run("UserSessionIsNotAHolder", func(t *testing.T) {
		status, _ := call(t, env, amara, http.MethodPost, "/v1/decisions", tests[0].body)
		if status != http.StatusUnauthorized {
			t.Errorf("POST /v1/decisions with a person's session = %d, want 401", status)
		}
	})
}

// holderToken gets an access token for the demo holder system with client
// credentials from the development provider.
func holderToken(t *testing.T, env *testenv.Env) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/dev-idp/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demo.HolderClient, demo.HolderSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("client credentials token: status %d, err %v", resp.StatusCode, err)
	}
	return out.AccessToken
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}
