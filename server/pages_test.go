package server_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sayso/consent"
	"sayso/frontend"
	"sayso/internal/testenv"
)

// Helpers for driving the pages over real HTTP, as a browser without
// JavaScript would.

type browser struct {
	t   *testing.T
	env *testenv.Env
	c   *http.Client
}

func signInBrowser(t *testing.T, env *testenv.Env, who string) *browser {
	t.Helper()
	c := env.SignIn(t, who)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, env: env, c: c}
}

func anonymousBrowser(t *testing.T, env *testenv.Env) *browser {
	c := env.Client(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, env: env, c: c}
}

type pageResp struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(req *http.Request) pageResp {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return pageResp{status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(path string) pageResp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.env.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form as a same-origin browser would.
func (b *browser) post(path string, form url.Values) pageResp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.env.URL)
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token is the anti-forgery token of the form on page path.
func (b *browser) token(path string) string {
	b.t.Helper()
	r := b.get(path)
	m := csrfRe.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		b.t.Fatalf("GET %s = %d, want 200 with a form token; body %.300s", path, r.status, r.body)
	}
	return html.UnescapeString(m[1])
}

// submit fetches path's form token and posts the form to action.
func (b *browser) submit(path, action string, form url.Values) pageResp {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.token(path))
	return b.post(action, form)
}

// world is a Sayso with something in every list: Amara shares her address
// with Sam, Sam has read it (a feed entry) and asked for her phone number,
// and Amara raised a concern that Dana answered; Grace shares Leo's school
// information with Priya, who read it.
type world struct {
	env                      *testenv.Env
	amaraGrant, leoGrant     string
	amaraRequest, leoRequest string
	amaraIndex, leoIndex     int64
	// Rosa handed each of them over to Sam; Sam opened statutory access to Amara's.
	amaraHandover, leoHandover string
	amaraAccess                string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := testenv.New(t)
	svc, ctx := env.App.Service, context.Background()
	w := &world{env: env}
	g, _, err := svc.Grant(ctx, "amara", "amara", consent.NewGrant{ProfessionalID: "sam", Category: "address", Purpose: "home-visit"})
	if err != nil {
		t.Fatalf("Grant(amara) = %v", err)
	}
	w.amaraGrant = g.ID
	g, _, err = svc.Grant(ctx, "grace", "leo", consent.NewGrant{ProfessionalID: "priya", Category: "education", Purpose: "education-support"})
	if err != nil {
		t.Fatalf("Grant(grace for leo) = %v", err)
	}
	w.leoGrant = g.ID
	read, err := svc.ReadRecords(ctx, consent.Question{YoungPersonID: "amara", ProfessionalID: "sam", Category: "address", Purpose: "home-visit"}, consent.ChannelPortal)
	if err != nil || !read.Verdict.Allowed {
		t.Fatalf("ReadRecords(sam, amara) = %+v, %v", read, err)
	}
	w.amaraIndex = read.LogIndex
	read, err = svc.ReadRecords(ctx, consent.Question{YoungPersonID: "leo", ProfessionalID: "priya", Category: "education", Purpose: "education-support"}, consent.ChannelPortal)
	if err != nil || !read.Verdict.Allowed {
		t.Fatalf("ReadRecords(priya, leo) = %+v, %v", read, err)
	}
	w.leoIndex = read.LogIndex
	r, err := svc.Ask(ctx, "sam", "amara", consent.NewRequest{Categories: []string{"phone", "social-care"}, Purpose: "plan-support", Reason: "To plan our next meeting together."})
	if err != nil {
		t.Fatalf("Ask(sam, amara) = %v", err)
	}
	w.amaraRequest = r.ID
	r, err = svc.Ask(ctx, "priya", "leo", consent.NewRequest{Categories: []string{"health"}, Purpose: "health-care", Reason: "So the school nurse can help with asthma."})
	if err != nil {
		t.Fatalf("Ask(priya, leo) = %v", err)
	}
	w.leoRequest = r.ID
	c, err := svc.RaiseConcern(ctx, "amara", "amara", w.amaraIndex, "I don't know why they needed this.")
	if err != nil {
		t.Fatalf("RaiseConcern(amara) = %v", err)
	}
	if _, err := svc.AnswerConcern(ctx, "dana", "riverside-council", c.ID, "Sam was planning the visit you agreed to."); err != nil {
		t.Fatalf("AnswerConcern(dana) = %v", err)
	}
	for yp, dst := range map[string]*string{"amara": &w.amaraHandover, "leo": &w.leoHandover} {
		decider := map[string]string{"amara": "amara", "leo": "grace"}[yp]
		if _, _, err := svc.Grant(ctx, decider, yp, consent.NewGrant{ProfessionalID: "rosa", Category: "address", Purpose: "home-visit"}); err != nil {
			t.Fatalf("Grant(%s, rosa) = %v", yp, err)
		}
		h, err := svc.StartHandover(ctx, "rosa", yp, "sam", "I'm moving teams. Sam knows you well.")
		if err != nil {
			t.Fatalf("StartHandover(rosa, %s) = %v", yp, err)
		}
		*dst = h.ID
	}
	a, err := svc.OpenStatutoryAccess(ctx, "sam", "amara", consent.NewStatutoryAccess{Categories: []string{"social-care"},
		Purpose: "child-protection-enquiry", Condition: "dpa2018-sch1-para18", Reason: "A concern raised by her school today."})
	if err != nil {
		t.Fatalf("OpenStatutoryAccess(sam, amara) = %v", err)
	}
	w.amaraAccess = a.ID
	return w
}

// text is what a person reads on a page: the title and the body's text,
// without tags, scripts or styles.
func text(page string) string {
	var title string
	if m := regexp.MustCompile(`(?s)<title>(.*?)</title>`).FindStringSubmatch(page); m != nil {
		title = m[1]
	}
	if i := strings.Index(page, "<body"); i >= 0 {
		page = page[i:]
	}
	page = regexp.MustCompile(`(?s)<script.*?</script>`).ReplaceAllString(page, " ")
	page = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(page, " ")
	return html.UnescapeString(title + " " + page)
}

func TestPages_Smoke(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		who, path, want string
	}{
		{"amara", "/", "Hello, Amara"},
		{"amara", "/yp/amara/holders", "Riverside Council"},
		{"amara", "/yp/amara/sharing", "Sam Patel, social worker at Riverside Council"},
		{"amara", "/yp/amara/sharing/" + w.amaraGrant + "/stop", "Stop sharing your address with Sam Patel"},
		{"amara", "/yp/amara/sharing/" + w.amaraGrant + "/end", "Change when sharing ends"},
		{"amara", "/yp/amara/requests", "is asking to see your phone number and your social care information"},
		{"amara", "/yp/amara/requests/" + w.amaraRequest, "To plan our next meeting together."},
		{"amara", "/yp/amara/looked", "Sam Patel, a social worker at Riverside Council, looked at your address"},
		{"amara", "/yp/amara/looked", "Sam was planning the visit you agreed to."},
		{"amara", "/yp/amara/family", "What can Ruth see?"},
		{"amara", "/yp/amara/share/who", "Who do you want to share something with?"},
		{"leo", "/", "your mum decides"},
		{"leo", "/yp/leo/sharing", "Grace Williams (your mum) shared this"},
		{"grace", "/", "You are using Sayso for"},
		{"grace", "/yp/leo/family", "Grace Williams"},
		{"sam", "/", "Young people you work with"},
		{"sam", "/work/yp/amara", "Amara's address"},
		{"sam", "/work/yp/amara/read", "will see that you looked"},
		{"sam", "/work/requests", "Waiting"},
		{"dana", "/", "Disclosures"},
		{"dana", "/dpo/riverside-council/concerns", "I don't know why they needed this."},
		{"dana", "/dpo/riverside-council/log", "Latest checkpoint"},
		{"ola", "/", "nothing for you to do"},
	} {
		t.Run(tc.who+tc.path, func(t *testing.T) {
			b := signInBrowser(t, w.env, tc.who)
			r := b.get(tc.path)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s as %s = %d, want 200; body %.500s", tc.path, tc.who, r.status, r.body)
			}
			if got := text(r.body); !strings.Contains(strings.Join(strings.Fields(got), " "), tc.want) {
				t.Errorf("GET %s as %s: text does not contain %q; text %.3000s", tc.path, tc.who, tc.want, strings.Join(strings.Fields(got), " "))
			}
		})
	}
}

// Every form that changes something refuses a missing or wrong token, and
// nothing changes.
func TestPages_AntiForgery(t *testing.T) {
	w := newWorld(t)
	amara := signInBrowser(t, w.env, "amara")
	other := signInBrowser(t, w.env, "amara") // the same person in another browser: another session
	stop := "/yp/amara/sharing/" + w.amaraGrant + "/stop"
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"Missing", ""},
		{"Garbage", "not-a-token"},
		{"OtherSession", other.token(stop)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			if tc.token != "" {
				form.Set("csrf", tc.token)
			}
			if r := amara.post(stop, form); r.status != http.StatusForbidden {
				t.Errorf("POST %s with %s token = %d, want 403", stop, tc.name, r.status)
			}
			grants, err := w.env.App.Service.Grants(t.Context(), "amara", "amara")
			grants = slices.DeleteFunc(grants, func(g consent.Grant) bool { return g.ID != w.amaraGrant })
			if err != nil || len(grants) != 1 || !grants[0].StoppedAt.IsZero() {
				t.Errorf("Grants(amara) after forged stop = %+v, %v, want the grant still running", grants, err)
			}
		})
	}
	t.Run("Right", func(t *testing.T) {
		r := amara.submit(stop, stop, nil)
		if r.status != http.StatusSeeOther || r.location != "/yp/amara/sharing" {
			t.Fatalf("POST %s with the right token = %d to %q, want 303 to /yp/amara/sharing", stop, r.status, r.location)
		}
		if got := text(amara.get("/yp/amara/sharing").body); !strings.Contains(got, "You stopped sharing your address with Sam Patel") {
			t.Errorf("sharing page after stop: no success banner; text %.1000s", got)
		}
	})
	// Every page POST route is covered: each refuses a tokenless form.
	for _, rt := range w.env.App.Server.Routes() {
		if rt.Method != http.MethodPost || !strings.HasPrefix(rt.Name, "page:") {
			continue
		}
		path := strings.NewReplacer(":ypId", "amara", ":grantId", w.amaraGrant, ":requestId", w.amaraRequest, ":index", "0",
			":step", "who", ":orgId", "riverside-council", ":concernId", "c-x", ":familyId", "ruth", ":section", "story-what-helps",
			":handoverId", w.amaraHandover, ":accessId", w.amaraAccess).Replace(rt.Path)
		if r := amara.post(path, url.Values{"message": {"x"}}); r.status != http.StatusForbidden {
			t.Errorf("POST %s without a token = %d, want 403", rt.Path, r.status)
		}
	}
}

// Bad input shows an error summary linked to the fields and keeps what
// was typed.
func TestPages_BadInput(t *testing.T) {
	w := newWorld(t)
	t.Run("AskForAccess", func(t *testing.T) {
		sam := signInBrowser(t, w.env, "sam")
		reason := "To plan support <with> Amara & her gran"
		r := sam.submit("/work/yp/amara/ask", "/work/yp/amara/ask", url.Values{"reason": {reason}, "purpose": {"plan-support"}})
		if r.status != http.StatusBadRequest {
			t.Fatalf("POST ask with no categories = %d, want 400", r.status)
		}
		for _, want := range []string{`class="error-summary"`, `href="#categories"`, `href="#duration"`, html.EscapeString(reason),
			`id="purpose" name="purpose" type="radio" value="plan-support" checked`, "<title>Error: "} {
			if !strings.Contains(r.body, want) {
				t.Errorf("POST ask with no categories: page lacks %q", want)
			}
		}
		if strings.Contains(r.body, `href="#reason"`) {
			t.Errorf("POST ask: error summary links #reason, but a reason was given")
		}
		if rs, _ := w.env.App.Service.RequestsByMe(t.Context(), "sam"); len(rs) != 1 {
			t.Errorf("RequestsByMe(sam) after bad input = %d requests, want the 1 from before", len(rs))
		}
	})
	t.Run("EndDate", func(t *testing.T) {
		amara := signInBrowser(t, w.env, "amara")
		p := "/yp/amara/sharing/" + w.amaraGrant + "/end"
		r := amara.submit(p, p, url.Values{"length": {"date"}, "until-day": {"31"}, "until-month": {"2"}, "until-year": {"2099"}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `href="#until-day"`) || !strings.Contains(r.body, `value="2099"`) {
			t.Errorf("POST end date 31 2 2099 = %d, want 400 with the summary linking #until-day and the year kept; body %.2000s", r.status, r.body)
		}
	})
	t.Run("Request", func(t *testing.T) {
		amara := signInBrowser(t, w.env, "amara")
		p := "/yp/amara/requests/" + w.amaraRequest
		r := amara.submit(p, p, url.Values{"answer-phone": {"yes"}, "message": {"Only my phone, thanks"}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `href="#answer-social-care"`) ||
			!strings.Contains(r.body, "Only my phone, thanks") || !strings.Contains(r.body, `value="yes" checked`) {
			t.Errorf("POST answer missing one category = %d, want 400 keeping what was chosen; body %.2000s", r.status, r.body)
		}
	})
}

// Nobody opens another young person's pages: 404, as if they did not exist.
func TestPages_OtherPeople(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct{ who, path string }{
		{"amara", "/yp/leo"},
		{"amara", "/yp/leo/sharing"},
		{"amara", "/yp/leo/looked"},
		{"amara", "/yp/leo/sharing/" + w.leoGrant + "/stop"},
		{"amara", "/yp/amara/sharing/" + w.leoGrant + "/stop"},
		{"mia", "/yp/amara"},
		{"leo", "/yp/amara/requests"},
		{"grace", "/yp/amara"},
		{"sam", "/yp/amara"},
		{"priya", "/work/yp/mia"},
		{"amara", "/work"},
		{"sam", "/dpo/riverside-council/disclosures"},
		{"dana", "/dpo/youth-hub/disclosures"},
		{"amara", "/yp/nobody"},
	} {
		t.Run(tc.who+tc.path, func(t *testing.T) {
			b := signInBrowser(t, w.env, tc.who)
			if r := b.get(tc.path); r.status != http.StatusNotFound {
				t.Errorf("GET %s as %s = %d, want 404", tc.path, tc.who, r.status)
			}
		})
	}
	t.Run("StopAnothersGrant", func(t *testing.T) {
		amara := signInBrowser(t, w.env, "amara")
		r := amara.submit("/yp/amara/sharing/"+w.amaraGrant+"/stop", "/yp/leo/sharing/"+w.leoGrant+"/stop", nil)
		if r.status != http.StatusNotFound {
			t.Errorf("POST stop of Leo's grant as amara = %d, want 404", r.status)
		}
		grants, _ := w.env.App.Service.Grants(t.Context(), "grace", "leo")
		grants = slices.DeleteFunc(grants, func(g consent.Grant) bool { return g.ID != w.leoGrant })
		if len(grants) != 1 || !grants[0].StoppedAt.IsZero() {
			t.Errorf("Leo's grants after amara's attempt = %+v, want still running", grants)
		}
	})
}

// Pages are personal: nothing is cached.
func TestPages_NoStore(t *testing.T) {
	w := newWorld(t)
	amara := signInBrowser(t, w.env, "amara")
	for _, p := range []string{"/", "/yp/amara", "/yp/amara/sharing", "/yp/amara/looked", "/yp/leo"} {
		if got := amara.get(p).header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s Cache-Control = %q, want no-store", p, got)
		}
	}
	r := amara.submit("/yp/amara/sharing/"+w.amaraGrant+"/end", "/yp/amara/sharing/"+w.amaraGrant+"/end", url.Values{"length": {"3m"}})
	if got := r.header.Get("Cache-Control"); r.status != http.StatusSeeOther || got != "no-store" {
		t.Errorf("POST end date = %d, Cache-Control %q, want 303 and no-store", r.status, got)
	}
}

// bannedIn returns the banned phrases in a page's text.
func bannedIn(t *testing.T, page string) []string {
	t.Helper()
	words := strings.ToLower(strings.Join(strings.Fields(text(page)), " "))
	var found []string
	for _, line := range strings.Split(frontend.BannedPhrases, "\n") {
		phrase := strings.ToLower(strings.TrimSpace(line))
		if phrase == "" || strings.HasPrefix(phrase, "#") {
			continue
		}
		if strings.Contains(words, phrase) {
			found = append(found, phrase)
		}
	}
	for _, m := range regexp.MustCompile(`contact(\s+\S+)?`).FindAllString(words, -1) {
		if m != "contact details" && !strings.HasPrefix(m, "contact details") {
			found = append(found, m)
		}
	}
	return found
}

func TestPages_NoBannedPhrases(t *testing.T) {
	if found := bannedIn(t, "<body>Your contact arrangements and contact with mum</body>"); len(found) != 3 {
		t.Fatalf("bannedIn(a page with three banned uses) = %v, want 3 findings", found)
	}
	if found := bannedIn(t, "<body>Your contact details</body>"); len(found) != 0 {
		t.Fatalf("bannedIn(contact details) = %v, want none", found)
	}
	w := newWorld(t)
	pages := map[string][]string{
		"amara": {"/", "/yp/amara", "/yp/amara/holders", "/yp/amara/sharing", "/yp/amara/sharing/" + w.amaraGrant + "/stop",
			"/yp/amara/sharing/" + w.amaraGrant + "/end", "/yp/amara/requests", "/yp/amara/requests/" + w.amaraRequest,
			"/yp/amara/looked", "/yp/amara/looked/" + itoa(w.amaraIndex) + "/concern", "/yp/amara/family",
			"/yp/amara/share/who", "/yp/amara/shared/" + w.amaraGrant, "/yp/nobody",
			"/yp/amara/story", "/yp/amara/story/story-what-helps", "/yp/amara/handovers/" + w.amaraHandover},
		"leo": {"/", "/yp/leo/holders", "/yp/leo/sharing", "/yp/leo/requests", "/yp/leo/requests/" + w.leoRequest, "/yp/leo/looked",
			"/yp/leo/looked/" + itoa(w.leoIndex) + "/concern", "/yp/leo/family", "/yp/leo/story", "/yp/leo/handovers/" + w.leoHandover},
		"grace": {"/", "/yp/leo/holders", "/yp/leo/sharing", "/yp/leo/sharing/" + w.leoGrant + "/stop", "/yp/leo/requests",
			"/yp/leo/requests/" + w.leoRequest, "/yp/leo/looked", "/yp/leo/family", "/yp/leo/share/who"},
	}
	// Walk the sharing journey and a request's answer too, so every step's
	// words are read.
	amara := signInBrowser(t, w.env, "amara")
	for _, s := range []struct {
		step string
		form url.Values
	}{{"who", url.Values{"professional": {"jo"}}}, {"what", url.Values{"category": {"contact"}}}, {"why", url.Values{"purpose": {"plan-support"}}}, {"how-long", url.Values{"length": {"1m"}}}} {
		p := "/yp/amara/share/" + s.step
		if r := amara.submit(p, p, s.form); r.status != http.StatusSeeOther {
			t.Fatalf("POST %s = %d, want 303; body %.500s", p, r.status, r.body)
		}
		pages["amara"] = append(pages["amara"], p)
	}
	pages["amara"] = append(pages["amara"], "/yp/amara/share/check")
	p := "/yp/amara/requests/" + w.amaraRequest
	if r := amara.submit(p, p, url.Values{"answer-phone": {"yes"}, "answer-social-care": {"no"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST answer = %d, want 303", r.status)
	}
	pages["amara"] = append(pages["amara"], p+"/check")
	for who, paths := range pages {
		b := amara
		if who != "amara" {
			b = signInBrowser(t, w.env, who)
		}
		for _, path := range paths {
			r := b.get(path)
			if r.status != http.StatusOK && r.status != http.StatusNotFound {
				t.Errorf("GET %s as %s = %d, want 200", path, who, r.status)
			}
			if found := bannedIn(t, r.body); len(found) > 0 {
				t.Errorf("GET %s as %s: page uses %q", path, who, found)
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
