package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"sayso/internal/testenv"
)

type me struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Roles []struct {
		Kind           string `json:"kind"`
		OrganisationID string `json:"organisationId"`
		Role           string `json:"role"`
	} `json:"roles"`
	ActsFor []struct {
		ID           string `json:"id"`
		Relationship string `json:"relationship"`
	} `json:"actsFor"`
}

func getMe(t *testing.T, c *http.Client, base string) (int, me) {
	t.Helper()
	resp, err := c.Get(base + "/v1/me")
	if err != nil {
		t.Fatalf("GET /v1/me: %v", err)
	}
	defer resp.Body.Close()
	var m me
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("GET /v1/me body: %v", err)
		}
	}
	return resp.StatusCode, m
}

func TestSignIn_DevProvider(t *testing.T) {
	env := testenv.New(t)

	t.Run("LoginHintThenMe", func(t *testing.T) {
		tests := []struct {
			who     string
			kinds   []string
			actsFor []string
		}{
			{"amara", []string{"young-person"}, []string{"amara"}},
			{"leo", []string{"young-person"}, nil}, // 11: his mum decides for now
			{"mia", []string{"young-person"}, nil}, // 12: not yet assessed
			{"grace", []string{"family-member"}, []string{"leo"}},
			{"sam", []string{"professional"}, nil},
			{"priya", []string{"professional"}, nil},
			{"jo", []string{"professional"}, nil},
			{"dana", []string{"dpo"}, nil},
			{"ola", []string{"operator"}, nil},
		}
		for _, tt := range tests {
			c := env.SignIn(t, tt.who)
			status, m := getMe(t, c, env.URL)
			if status != http.StatusOK || m.ID != tt.who {
				t.Fatalf("GET /v1/me as %s = %d %q, want 200 %q", tt.who, status, m.ID, tt.who)
			}
			var kinds, acts []string
			for _, r := range m.Roles {
				kinds = append(kinds, r.Kind)
			}
			for _, a := range m.ActsFor {
				acts = append(acts, a.ID)
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("roles of %s = %v, want %v", tt.who, kinds, tt.kinds)
			}
			if !slices.Equal(acts, tt.actsFor) {
				t.Errorf("actsFor of %s = %v, want %v", tt.who, acts, tt.actsFor)
			}
		}
	})

	t.Run("SessionCookieFlags", func(t *testing.T) {
		c := env.Client(t)
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == "/" {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, err := c.Get(env.URL + "/login?login_hint=amara")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var found bool
		for _, ck := range resp.Cookies() {
			if ck.Name != "sayso_session" {
				continue
			}
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
				t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, no Domain", ck)
			}
			if ck.Secure {
				t.Errorf("session cookie Secure = true on plain-http development, want false")
			}
		}
		if !found {
			t.Fatalf("callback set cookies %v, want sayso_session", resp.Cookies())
		}
	})

	t.Run("FreshSessionIDAtSignIn", func(t *testing.T) {
		c := env.SignIn(t, "amara")
		u, _ := url.Parse(env.URL)
		first := sessionCookie(c, u)
		resp, err := c.Get(env.URL + "/login?login_hint=amara")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		second := sessionCookie(c, u)
		if first == "" || second == "" || first == second {
			t.Fatalf("session id before and after signing in again = %q, %q, want two different ids", first, second)
		}
		old := clientWithSession(t, env, first)
		if status, _ := getMe(t, old, env.URL); status != http.StatusUnauthorized {
			t.Errorf("GET /v1/me with the replaced session = %d, want 401", status)
		}
	})

	t.Run("LogoutEndsSessionOnServer", func(t *testing.T) {
		c := env.SignIn(t, "amara")
		u, _ := url.Parse(env.URL)
		id := sessionCookie(c, u)
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/logout", nil)
		req.Header.Set("Origin", env.URL)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// A copy of the cookie kept by an attacker is worthless now.
		stale := clientWithSession(t, env, id)
		if status, _ := getMe(t, stale, env.URL); status != http.StatusUnauthorized {
			t.Errorf("GET /v1/me with a logged-out session = %d, want 401", status)
		}
	})

	t.Run("LogoutFromAnotherSiteRefused", func(t *testing.T) {
		c := env.SignIn(t, "amara")
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/logout", nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST /logout = %d, want 403", resp.StatusCode)
		}
		if status, _ := getMe(t, c, env.URL); status != http.StatusOK {
			t.Errorf("GET /v1/me after a refused logout = %d, want 200", status)
		}
	})
}

func TestSessions_Timeouts(t *testing.T) {
	tests := []struct {
		name   string
		steps  []time.Duration // clock advances, each followed by a request
		wantOK []bool
	}{
		{"IdleEnds", []time.Duration{29 * time.Minute, 31 * time.Minute}, []bool{true, false}},
		{"ActivityKeepsAlive", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, []bool{true, true, true}},
		{"AbsoluteEndsDespiteActivity", stepsOf(36, 20*time.Minute), append(trues(35), false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testenv.New(t)
			c := env.SignIn(t, "amara")
			for i, d := range tt.steps {
				env.Clock.Advance(d)
				status, _ := getMe(t, c, env.URL)
				if got := status == http.StatusOK; got != tt.wantOK[i] {
					t.Fatalf("step %d (after %v more): GET /v1/me = %d, want ok=%v", i, d, status, tt.wantOK[i])
				}
			}
		})
	}
}

func stepsOf(n int, d time.Duration) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d
	}
	return s
}

func trues(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}

func sessionCookie(c *http.Client, u *url.URL) string {
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "sayso_session" {
			return ck.Value
		}
	}
	return ""
}

func clientWithSession(t *testing.T, env *testenv.Env, id string) *http.Client {
	c := env.Client(t)
	u, _ := url.Parse(env.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "sayso_session", Value: id, Path: "/"}})
	return c
}

func londonTZ(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	return loc
}
