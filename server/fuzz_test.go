package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"sayso/internal/testenv"
)

// fuzzEnv is one Sayso shared by a fuzz target's inputs, with Amara and Sam
// signed in.
func fuzzEnv(f *testing.F) (*testenv.Env, map[string]*http.Cookie) {
	env := testenv.New(f)
	u, _ := url.Parse(env.URL)
	cookies := map[string]*http.Cookie{}
	for _, who := range []string{"amara", "sam"} {
		c := env.SignIn(f, who)
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == "sayso_session" {
				cookies[who] = ck
			}
		}
	}
	return env, cookies
}

// serve sends one request straight to the handler.
func serve(env *testenv.Env, method, target string, body []byte, cookie *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	env.App.Server.ServeHTTP(rec, req)
	return rec
}

var fuzzRoutes = []struct{ method, path, who string }{
	{http.MethodPost, "/v1/young-people/amara/grants", "amara"},
	{http.MethodPost, "/v1/young-people/amara/requests", "sam"},
	{http.MethodPost, "/v1/young-people/amara/requests/q-x/decision", "amara"},
	{http.MethodPost, "/v1/young-people/amara/blocks", "amara"},
	{http.MethodPost, "/v1/young-people/amara/competence", "sam"},
}

func FuzzAPI_JSONBodies(f *testing.F) {
	env, cookies := fuzzEnv(f)
	for i := range fuzzRoutes {
		f.Add(uint8(i), []byte(`{"professionalId":"sam","category":"address","purpose":"home-visit"}`))
		f.Add(uint8(i), []byte(`{"categories":["address"],"purpose":"home-visit","reason":"x","durationDays":-5}`))
		f.Add(uint8(i), []byte(`{"approve":[1,2],"message":null}`))
		f.Add(uint8(i), []byte(`{"until":"not a time"}`))
		f.Add(uint8(i), []byte(`[]`))
		f.Add(uint8(i), []byte("{\"professionalId\":\"\u0000\"} trailing"))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		rec := serve(env, r.method, r.path, body, cookies[r.who])
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q = %d %s", r.method, r.path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s %s error answer has Content-Type %q, want problem+json", r.method, r.path, rec.Header().Get("Content-Type"))
		}
	})
}

func FuzzAPI_PathAndQueryIDs(f *testing.F) {
	env, cookies := fuzzEnv(f)
	f.Add("amara", "address", "home-visit", "0")
	f.Add("../../etc/passwd", "%00", "'; DROP TABLE people; --", "-1")
	f.Add("amara", "contact", "", "99999999999999999999")
	f.Fuzz(func(t *testing.T, yp, category, purpose, index string) {
		targets := []string{
			"/v1/young-people/" + url.PathEscape(yp) + "/records/" + url.PathEscape(category) + "?purpose=" + url.QueryEscape(purpose),
			"/v1/young-people/" + url.PathEscape(yp) + "/disclosures?before=" + url.QueryEscape(index),
			"/v1/log/entries/" + url.PathEscape(index) + "/proof?treeSize=" + url.QueryEscape(index),
			"/v1/organisations/" + url.PathEscape(yp) + "/disclosures?from=" + url.QueryEscape(purpose) + "&cursor=" + url.QueryEscape(category),
		}
		for _, target := range targets {
			rec := serve(env, http.MethodGet, target, nil, cookies["sam"])
			if rec.Code >= 500 {
				t.Fatalf("GET %s = %d %s", target, rec.Code, rec.Body.String())
			}
		}
	})
}

func FuzzSessionCookie(f *testing.F) {
	env, cookies := fuzzEnv(f)
	f.Add(cookies["amara"].Value[:10])
	f.Add("")
	f.Add(strings.Repeat("A", 4096))
	f.Add("\"; Path=/; admin=1")
	f.Fuzz(func(t *testing.T, value string) {
		if value == cookies["amara"].Value || value == cookies["sam"].Value {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		req.Header.Set("Cookie", "sayso_session="+value)
		rec := httptest.NewRecorder()
		env.App.Server.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("GET /v1/me with session cookie %q = %d, want 401", value, rec.Code)
		}
	})
}
