package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
	"sayso/demo"
	"sayso/internal/testenv"
)

// The authorisation matrix: every route Echo has registered, asked by every
// kind of caller. The expected outcomes below are written by hand from the
// product rules, not read from the policy or the handlers:
//
//   - Public routes (health, contract, static files, sign-in, the public log
//     and its key, the catalogue, the receipt keys) answer anyone.
//   - /v1 routes need a signed-in person; a holder system's token is not one.
//   - A young person who decides for themselves (Amara, 15) sees and decides
//     everything about their own sharing. A young person who does not yet
//     decide (Leo, 11) sees it but cannot change it; a family member who
//     may act for them (Grace, Leo's mum) sees and decides it. Nobody else
//     sees anything: not another young person, not an unlinked family
//     member, not a professional (even one Amara shares with), not a DPO and
//     not an operator.
//   - A professional reads a young person's records only through a grant
//     for that category and purpose (Sam has one; Priya has none).
//   - Any professional whose organisation holds information about the young
//     person may ask for access and may record an assessment of competence;
//     a professional sees their own requests. DPOs and operators are not
//     professionals for either.
//   - A DPO sees their own organisation's disclosures; nobody else does.
//   - Only a holder system's token may ask for a decision, and only about
//     its organisation's professionals (Sam is Riverside's).
//
// Each route gets a fresh Sayso, and each cell that consumes state (stopping
// a grant, answering a request) gets its own grant or request, so an
// outcome reflects who asked, not what an earlier cell did.

// authzColumns are the callers, in the column order of authzTable.
var authzColumns = []string{"amara", "leo", "grace", "sam", "priya", "dana", "ola", "anonymous", "holder"}

// authzLeoColumns follow "|" on routes about one young person: the same
// routes asked about Leo instead of Amara.
var authzLeoColumns = []string{"grace-for-leo", "leo-for-leo"}

type authzRoute struct {
	route string // method and path exactly as Echo registers them
	// want is one letter per column: A allowed (2xx, or 3xx for pages),
	// R refused (401, 403 or 404).
	want  string
	query string
	body  any
}

var (
	authzGrantBody    = map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit"}
	authzAskBody      = map[string]any{"categories": []string{"address"}, "purpose": "home-visit", "reason": "To plan a visit to your home."}
	authzDecideBody   = map[string]any{"approve": []string{"address"}}
	authzBlockBody    = map[string]any{"professionalId": "sam"}
	authzCompetence   = map[string]any{"competent": false, "note": "Not assessed yet."} // false: changes nobody's rights
	authzDecisionBody = map[string]any{"professionalId": "sam", "youngPersonId": "amara", "category": "address", "purpose": "home-visit"}
	authzStoryBody    = map[string]any{"text": "Music helps. So does my gran."}
	authzVersionBody  = map[string]any{"version": 0}
	authzAnswerHO     = map[string]any{"answer": "declined"}
	authzFamilyBody   = map[string]any{"see": []string{"education"}, "act": false}
	authzStatutory    = map[string]any{"categories": []string{"social-care"}, "purpose": "child-protection-enquiry",
		"condition": "dpa2018-sch1-para18", "reason": "A teacher raised a safeguarding concern this morning."}
	authzHandoverBody = map[string]any{"youngPersonId": "amara", "successorId": "rosa", "note": "Rosa knows your plan."}
	authzAnswerQ      = map[string]any{"answer": "Sam was planning your visit."}
	authzDelayBody    = map[string]any{"reason": "Telling now could put her at risk while enquiries go on.", "reviewBy": "later"}
	authzReviewedBody = map[string]any{"note": "Proportionate."}
	// authzAskWhy is filled per caller with an entry about their young person.
	authzAskWhy = map[string]any{"logIndex": -1}
)

var authzTable = []authzRoute{
	//                                                                     amara leo grace sam priya dana ola anon holder | grace→leo leo→leo
	{route: "GET /healthz", want: "A A A A A A A A A"},
	{route: "GET /readyz", want: "A A A A A A A A A"},
	{route: "GET /openapi.yaml", want: "A A A A A A A A A"},
	{route: "GET /static/*", want: "A A A A A A A A A"},
	{route: "GET /login", want: "A A A A A A A A A"},
	{route: "GET /auth/callback", want: "A A A A A A A A A"}, // each caller finishes a sign-in of their own
	{route: "POST /logout", want: "A A A A A A A A A"},
	{route: "GET /", want: "A A A A A A A A A"},
	{route: "GET /.well-known/jwks.json", want: "A A A A A A A A A"},
	{route: "GET /v1/catalogue", want: "A A A A A A A A A"},
	{route: "POST /v1/decisions", want: "R R R R R R R R A", body: authzDecisionBody},
	{route: "GET /v1/log/checkpoint", want: "A A A A A A A A A"},
	{route: "GET /v1/log/key", want: "A A A A A A A A A"},
	{route: "GET /v1/log/keys", want: "A A A A A A A A A"},
	{route: "GET /v1/log/entries/:index/proof", want: "A A A A A A A A A"},
	{route: "GET /v1/me", want: "A A A A A A A R R"},
	{route: "GET /v1/young-people/:ypId/holdings", want: "A R R R R R R R R | A A"},
	{route: "GET /v1/young-people/:ypId/grants", want: "A R R R R R R R R | A A"},
	{route: "POST /v1/young-people/:ypId/grants", want: "A R R R R R R R R | A R", body: authzGrantBody},
	{route: "DELETE /v1/young-people/:ypId/grants/:grantId", want: "A R R R R R R R R | A R"},
	{route: "GET /v1/young-people/:ypId/requests", want: "A R R A R R R R R | A A"}, // Sam sees his own request
	{route: "POST /v1/young-people/:ypId/requests", want: "R R R A A R R R R | R R", body: authzAskBody},
	{route: "POST /v1/young-people/:ypId/requests/:requestId/decision", want: "A R R R R R R R R | A R", body: authzDecideBody},
	{route: "GET /v1/young-people/:ypId/records/:category", want: "R R R A R R R R R | R R", query: "purpose=home-visit"},
	{route: "POST /v1/young-people/:ypId/blocks", want: "A R R R R R R R R | A R", body: authzBlockBody},
	{route: "DELETE /v1/young-people/:ypId/blocks/:professionalId", want: "A R R R R R R R R | A R"},
	{route: "POST /v1/young-people/:ypId/competence", want: "R R R A A R R R R | R R", body: authzCompetence},
	{route: "GET /v1/young-people/:ypId/disclosures", want: "A R R R R R R R R | A A"},
	{route: "GET /v1/organisations/:orgId/disclosures", want: "R R R R R A R R R"},
	// Issue 8. Asking "why did you look?" is not a decision: a young person
	// who does not decide yet may ask too. Only the young person writes
	// their story; family members do not see it unless the young person
	// lets them. Statutory access: only a role marked statutory (Sam, a
	// social worker; not Priya, a teacher). A handover goes only to a
	// colleague. Reviews, delays and answers: the organisation's DPO only;
	// ending a membership: its DPO or an operator.
	{route: "GET /v1/young-people/:ypId/questions", want: "A R R R R R R R R | A A"},
	{route: "POST /v1/young-people/:ypId/questions", want: "A R R R R R R R R | A A", body: authzAskWhy},
	{route: "GET /v1/young-people/:ypId/story", want: "A R R R R R R R R | R A"},
	{route: "POST /v1/young-people/:ypId/story/:section", want: "A R R R R R R R R | R A", body: authzStoryBody},
	{route: "PUT /v1/young-people/:ypId/grants/:grantId/story-version", want: "A R R R R R R R R | R R", body: authzVersionBody},
	{route: "GET /v1/young-people/:ypId/handovers", want: "A R R R R R R R R | A A"},
	{route: "POST /v1/young-people/:ypId/handovers/:handoverId/answer", want: "A R R R R R R R R | A R", body: authzAnswerHO},
	{route: "GET /v1/young-people/:ypId/family", want: "A R R R R R R R R | A A"},
	{route: "PUT /v1/young-people/:ypId/family/:familyId", want: "A R R R R R R R R | R R", body: authzFamilyBody},
	{route: "GET /v1/young-people/:ypId/family-actions", want: "A R R R R R R R R | R A"},
	{route: "POST /v1/young-people/:ypId/statutory-access", want: "R R R A R R R R R | R R", body: authzStatutory},
	{route: "POST /v1/handovers", want: "R R R A R R R R R", body: authzHandoverBody},
	{route: "GET /v1/organisations/:orgId/questions", want: "R R R R R A R R R"},
	{route: "POST /v1/organisations/:orgId/questions/:questionId/answer", want: "R R R R R A R R R", body: authzAnswerQ},
	{route: "GET /v1/organisations/:orgId/statutory", want: "R R R R R A R R R"},
	{route: "POST /v1/organisations/:orgId/statutory/:accessId/delay", want: "R R R R R A R R R", body: authzDelayBody},
	{route: "POST /v1/organisations/:orgId/statutory/:accessId/reviewed", want: "R R R R R A R R R", body: authzReviewedBody},
	{route: "POST /v1/organisations/:orgId/memberships/:membershipId/end", want: "R R R R R A A R R"},
}

// authzSkip is everything registered that the matrix leaves out, and why.
var authzSkip = []struct {
	why   string
	match func(*echo.Route) bool
}{
	{"the development identity provider's own mount", func(r *echo.Route) bool {
		return r.Path == "/dev-idp" || strings.HasPrefix(r.Path, "/dev-idp/")
	}},
	{"pages (named page:...), whose own matrix is TestPages_Authz in pages_authz_test.go", func(r *echo.Route) bool {
		return strings.HasPrefix(r.Name, "page:")
	}},
	{"Echo's not-found catch-alls, registered so group middleware runs", func(r *echo.Route) bool {
		return r.Method == echo.RouteNotFound
	}},
}

func authzSkipped(r *echo.Route) bool {
	for _, s := range authzSkip {
		if s.match(r) {
			return true
		}
	}
	return false
}

// authzExpect returns the expected outcome for each caller of row, checking
// the row's shape.
func authzExpect(t *testing.T, row authzRoute) map[string]byte {
	t.Helper()
	base, leo, hasLeo := strings.Cut(row.want, "|")
	aboutYP := strings.Contains(row.route, ":ypId")
	if hasLeo != aboutYP {
		t.Fatalf("authzTable %s: Leo columns present = %v, want %v (only routes with :ypId have them)", row.route, hasLeo, aboutYP)
	}
	out := map[string]byte{}
	fill := func(cols []string, letters string) {
		f := strings.Fields(letters)
		if len(f) != len(cols) {
			t.Fatalf("authzTable %s: %d outcomes in %q, want %d (%v)", row.route, len(f), letters, len(cols), cols)
		}
		for i, c := range cols {
			if f[i] != "A" && f[i] != "R" {
				t.Fatalf("authzTable %s: outcome %q for %s, want A or R", row.route, f[i], c)
			}
			out[c] = f[i][0]
		}
	}
	fill(authzColumns, base)
	if hasLeo {
		fill(authzLeoColumns, leo)
	}
	return out
}

func TestAuthz_Matrix(t *testing.T) {
	probe := testenv.New(t)
	registered := map[string]bool{}
	for _, r := range probe.App.Server.Routes() {
		if !authzSkipped(r) {
			registered[r.Method+" "+r.Path] = true
		}
	}
	inTable := map[string]bool{}
	for _, row := range authzTable {
		if inTable[row.route] {
			t.Errorf("authzTable lists %s twice", row.route)
		}
		inTable[row.route] = true
		if !registered[row.route] {
			t.Errorf("authzTable lists %s, which is not a registered route", row.route)
		}
	}
	for route := range registered {
		if !inTable[route] {
			t.Errorf("route %s is registered but missing from authzTable; add its row", route)
		}
	}

	for _, row := range authzTable {
		if !registered[row.route] {
			continue
		}
		t.Run(row.route, func(t *testing.T) {
			t.Parallel()
			want := authzExpect(t, row)
			w := newAuthzWorld(t)
			for _, c := range w.callers {
				exp, ok := want[c.name]
				if !ok {
					continue // the Leo columns exist only for routes about one young person
				}
				t.Run(c.name, func(t *testing.T) {
					status, body := w.do(t, row, c)
					switch {
					case exp == 'A' && (status < 200 || status > 399):
						t.Errorf("%s as %s = %d %.200s, want allowed (2xx or 3xx)", row.route, c.name, status, body)
					case exp == 'R' && status != 401 && status != 403 && status != 404:
						t.Errorf("%s as %s = %d %.200s, want refused (401, 403 or 404)", row.route, c.name, status, body)
					}
				})
			}
		})
	}
}

// authzCaller is one column of the matrix.
type authzCaller struct {
	name   string
	yp     string       // whose routes they are asked about
	client *http.Client // never follows redirects
	token  string       // a holder system's access token
	hint   string       // who they sign in as when finishing a sign-in
}

// authzWorld is one fresh Sayso with every caller signed in and the state
// the routes need: Amara shares her address with Sam for home visits, Sam
// has asked Amara for something, and Sam has read her address once (so the
// log has an entry to prove).
type authzWorld struct {
	env     *testenv.Env
	callers []authzCaller
	// Setup clients, never themselves callers: who makes fresh grants and
	// requests for a cell.
	decider map[string]*http.Client // young person -> who decides for them
	asker   *http.Client
	// read is the log index of a read of each young person's address by Sam.
	read map[string]int64
}

func authzNoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func newAuthzWorld(t *testing.T) *authzWorld {
	t.Helper()
	env := testenv.New(t)
	signIn := func(who string) *http.Client {
		c := env.SignIn(t, who)
		c.CheckRedirect = authzNoRedirect
		return c
	}
	anonymous, holder := env.Client(t), env.Client(t)
	anonymous.CheckRedirect, holder.CheckRedirect = authzNoRedirect, authzNoRedirect
	w := &authzWorld{env: env}
	for _, who := range []string{"amara", "leo", "grace", "sam", "priya", "dana", "ola"} {
		w.callers = append(w.callers, authzCaller{name: who, yp: "amara", client: signIn(who), hint: who})
	}
	w.callers = append(w.callers,
		authzCaller{name: "anonymous", yp: "amara", client: anonymous, hint: "jo"},
		authzCaller{name: "holder", yp: "amara", client: holder, token: holderToken(t, env), hint: "jo"},
		authzCaller{name: "grace-for-leo", yp: "leo", client: signIn("grace"), hint: "grace"},
		authzCaller{name: "leo-for-leo", yp: "leo", client: signIn("leo"), hint: "leo"},
	)
	w.decider = map[string]*http.Client{"amara": signIn("amara"), "leo": signIn("grace")}
	w.asker = signIn("sam")

	w.mustCall(t, w.decider["amara"], http.MethodPost, "/v1/young-people/amara/grants", authzGrantBody, http.StatusCreated)
	w.mustCall(t, w.asker, http.MethodPost, "/v1/young-people/amara/requests",
		map[string]any{"categories": []string{"phone"}, "purpose": "plan-support", "reason": "To plan our first meeting."}, http.StatusCreated)
	w.read = map[string]int64{}
	for _, yp := range []string{"amara", "leo"} {
		if yp == "leo" {
			w.mustCall(t, w.decider["leo"], http.MethodPost, "/v1/young-people/leo/grants", authzGrantBody, http.StatusCreated)
		}
		out := w.mustCall(t, w.asker, http.MethodGet, "/v1/young-people/"+yp+"/records/address?purpose=home-visit", nil, http.StatusOK)
		w.read[yp] = int64(out["logIndex"].(float64))
	}
	return w
}

// mustCall makes a setup request and returns the decoded answer.
func (w *authzWorld) mustCall(t *testing.T, c *http.Client, method, path string, body any, want int) map[string]any {
	t.Helper()
	status, raw := w.send(t, c, "", method, w.env.URL+path, body)
	if status != want {
		t.Fatalf("setup %s %s = %d %.300s, want %d", method, path, status, raw, want)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// send makes one request, with Origin on anything unsafe, as a browser
// would, and the bearer token if there is one.
func (w *authzWorld) send(t *testing.T, c *http.Client, token, method, u string, body any) (int, []byte) {
	t.Helper()
	req, err := jsonRequest(method, u, w.env.URL, token, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// do runs one cell: it fills the route's parameters (making a fresh grant or
// request where the route consumes one) and sends the request as c.
func (w *authzWorld) do(t *testing.T, row authzRoute, c authzCaller) (int, []byte) {
	t.Helper()
	method, pattern, _ := strings.Cut(row.route, " ")
	params := map[string]string{
		"ypId": c.yp, "category": "address", "professionalId": "sam", "orgId": demo.HolderOrganisation, "index": "0", "*": "sayso.css",
		"section": "story-what-helps", "familyId": map[string]string{"amara": "ruth", "leo": "grace"}[c.yp],
	}
	body := row.body
	switch {
	case strings.HasSuffix(pattern, "/story-version") && c.yp == "amara":
		out := w.mustCall(t, w.decider[c.yp], http.MethodPost, "/v1/young-people/"+c.yp+"/grants",
			map[string]any{"professionalId": "jo", "category": "story-what-helps", "purpose": "plan-support"}, http.StatusCreated)
		params["grantId"] = out["grant"].(map[string]any)["id"].(string)
	case strings.Contains(pattern, ":handoverId"):
		// Sam hands over each time; give him something to hand over first.
		w.mustCall(t, w.decider[c.yp], http.MethodPost, "/v1/young-people/"+c.yp+"/grants", authzGrantBody, http.StatusCreated)
		out := w.mustCall(t, w.asker, http.MethodPost, "/v1/handovers",
			map[string]any{"youngPersonId": c.yp, "successorId": "rosa", "note": "Rosa is taking over."}, http.StatusCreated)
		params["handoverId"] = out["id"].(string)
	case strings.Contains(pattern, ":questionId"):
		out := w.mustCall(t, w.decider["amara"], http.MethodPost, "/v1/young-people/amara/questions",
			map[string]any{"logIndex": w.read["amara"], "message": "Why?"}, http.StatusCreated)
		params["questionId"] = out["id"].(string)
	case strings.Contains(pattern, ":accessId"):
		out := w.mustCall(t, w.asker, http.MethodPost, "/v1/young-people/amara/statutory-access", authzStatutory, http.StatusCreated)
		params["accessId"] = out["id"].(string)
	case strings.Contains(pattern, ":membershipId"):
		id := "m-authz-" + c.name
		err := w.env.App.Store.CreateMembership(t.Context(), consent.Membership{ID: id, PersonID: "rosa", OrganisationID: demo.HolderOrganisation,
			Role: consent.RoleSocialWorker, StartedAt: w.env.Clock.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatalf("CreateMembership(%s) = %v", id, err)
		}
		params["membershipId"] = id
	}
	if row.body != nil {
		if _, ok := row.body.(map[string]any)["logIndex"]; ok {
			body = map[string]any{"logIndex": w.read[c.yp], "message": "Why did you look?"}
		}
		if _, ok := row.body.(map[string]any)["reviewBy"]; ok {
			body = map[string]any{"reason": authzDelayBody["reason"], "reviewBy": w.env.Clock.Now().Add(7 * 24 * time.Hour)}
		}
	}
	if strings.Contains(pattern, ":grantId") && params["grantId"] == "" {
		out := w.mustCall(t, w.decider[c.yp], http.MethodPost, "/v1/young-people/"+c.yp+"/grants",
			map[string]any{"professionalId": "priya", "category": "education", "purpose": "education-support"}, http.StatusCreated)
		params["grantId"] = out["grant"].(map[string]any)["id"].(string)
	}
	if strings.Contains(pattern, ":requestId") {
		out := w.mustCall(t, w.asker, http.MethodPost, "/v1/young-people/"+c.yp+"/requests", authzAskBody, http.StatusCreated)
		params["requestId"] = out["id"].(string)
	}
	u := w.env.URL + authzFillPattern(t, pattern, params)
	if row.query != "" {
		u += "?" + row.query
	}
	if row.route == "GET /auth/callback" {
		u = w.callbackURL(t, c)
	}
	return w.send(t, c.client, c.token, method, u, body)
}

// authzFillPattern puts values into an Echo path pattern.
func authzFillPattern(t *testing.T, pattern string, params map[string]string) string {
	t.Helper()
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		name, isParam := strings.CutPrefix(s, ":")
		if s == "*" {
			name, isParam = "*", true
		}
		if !isParam {
			continue
		}
		v, ok := params[name]
		if !ok {
			t.Fatalf("no value for %q in %s; add one to the matrix's parameters", s, pattern)
		}
		segs[i] = url.PathEscape(v)
	}
	return strings.Join(segs, "/")
}

// callbackURL walks a sign-in as c.hint through the development provider up
// to (not including) the request to /auth/callback, in c's browser.
func (w *authzWorld) callbackURL(t *testing.T, c authzCaller) string {
	t.Helper()
	walker := *c.client
	walker.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/auth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := walker.Get(w.env.URL + "/login?login_hint=" + url.QueryEscape(c.hint))
	if err != nil {
		t.Fatalf("sign in as %s: %v", c.hint, err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Path != "/auth/callback" {
		t.Fatalf("sign in as %s stopped at %s with %d, want a redirect to /auth/callback", c.hint, resp.Request.URL, resp.StatusCode)
	}
	return loc.String()
}
