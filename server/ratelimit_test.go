package server_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"sayso/internal/testenv"
	"sayso/internal/wire"
	"sayso/server"
)

func tightLimits(o *wire.Options) {
	l := server.DefaultLimits()
	l.SignIn = server.Limit{Per: rate.Every(time.Hour), Burst: 3}
	l.Reads = server.Limit{Per: rate.Every(time.Hour), Burst: 4}
	l.Requests = server.Limit{Per: rate.Every(time.Hour), Burst: 2}
	l.Decisions = server.Limit{Per: rate.Every(time.Hour), Burst: 3}
	o.Limits = &l
}

func wantLimited(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s = %d, want 429", what, resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s Retry-After = %q, want whole seconds", what, resp.Header.Get("Retry-After"))
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("SignInPerAddressAndForgedForwardedForIgnored", func(t *testing.T) {
		env := testenv.New(t, tightLimits)
		plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for i := range 4 {
			req, _ := http.NewRequest(http.MethodGet, env.URL+"/login", nil)
			req.Header.Set("X-Forwarded-For", "198.51.100."+strconv.Itoa(i)) // a new "client" every time
			resp, err := plain.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if i < 3 && resp.StatusCode != http.StatusFound {
				t.Fatalf("sign-in %d = %d, want 302", i, resp.StatusCode)
			}
			if i == 3 {
				wantLimited(t, "fourth sign-in with a forged X-Forwarded-For", resp)
			}
		}
	})

	t.Run("ReadsPerPerson", func(t *testing.T) {
		env := testenv.New(t, tightLimits)
		amara := env.SignIn(t, "amara")
		grant(t, env, amara, "amara", "sam", "address", "home-visit")
		grant(t, env, amara, "amara", "priya", "education", "education-support")
		sam := env.SignIn(t, "sam")
		for range 4 {
			if status, _ := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusOK {
				t.Fatalf("read within the limit = %d, want 200", status)
			}
		}
		resp, err := sam.Get(env.URL + "/v1/young-people/amara/records/address?purpose=home-visit")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		wantLimited(t, "fifth read", resp)
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("429 Content-Type = %q, want application/problem+json", ct)
		}
		if status, _ := read(t, env, env.SignIn(t, "priya"), "amara", "education", "education-support"); status != http.StatusOK {
			t.Errorf("another professional's read = %d, want 200 (limits are per person)", status)
		}
	})

	t.Run("RequestsPerPerson", func(t *testing.T) {
		env := testenv.New(t, tightLimits)
		sam := env.SignIn(t, "sam")
		body := map[string]any{"categories": []string{"address"}, "purpose": "home-visit", "reason": "To plan a visit."}
		for i := range 3 {
			status, _ := call(t, env, sam, http.MethodPost, "/v1/young-people/amara/requests", body)
			if want := map[bool]int{true: http.StatusCreated, false: http.StatusTooManyRequests}[i < 2]; status != want {
				t.Fatalf("request %d = %d, want %d", i, status, want)
			}
		}
	})

	t.Run("DecisionsPerHolder", func(t *testing.T) {
		env := testenv.New(t, tightLimits)
		token := holderToken(t, env)
		for i := range 4 {
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/v1/decisions", jsonBody(map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "home-visit"}))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := env.Client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if i < 3 && resp.StatusCode != http.StatusOK {
				t.Fatalf("decision %d = %d, want 200", i, resp.StatusCode)
			}
			if i == 3 {
				wantLimited(t, "fourth decision", resp)
			}
		}
	})
}
