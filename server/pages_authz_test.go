package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The pages' authorisation matrix: every page a GET opens, asked by every
// kind of caller, expected outcomes written by hand from the product rules
// (as the API's matrix in authz_test.go, which leaves pages to this one):
//
//   - A young person's pages open for the young person and for a family
//     member who may act for them; pages that change something only for
//     someone who decides (Leo, 11, sees but does not decide). Everyone
//     else gets 404, as if the young person did not exist.
//   - A professional's pages open for professionals whose organisation
//     holds information about the young person (Sam and Priya for Amara).
//   - A DPO's pages open for that organisation's DPO only.
//   - Someone not signed in is sent to sign in.
//
// POST routes are covered by TestPages_AntiForgery (every one refuses a
// missing token) and TestPages_OtherPeople (a valid token from the wrong
// person changes nothing).

var pagesAuthzColumns = []string{"amara", "leo", "grace", "sam", "priya", "dana", "anonymous"}
var pagesAuthzLeoColumns = []string{"grace-for-leo", "leo-for-leo"}

var pagesAuthzTable = map[string]string{
	//                                                  amara leo grace sam priya dana anon | grace→leo leo→leo
	"/yp/:ypId":                              "A R R R R R L | A A",
	"/yp/:ypId/holders":                      "A R R R R R L | A A",
	"/yp/:ypId/sharing":                      "A R R R R R L | A A",
	"/yp/:ypId/sharing/:grantId/stop":        "A R R R R R L | A R",
	"/yp/:ypId/sharing/:grantId/end":         "A R R R R R L | A R",
	"/yp/:ypId/share":                        "A R R R R R L | A R",
	"/yp/:ypId/share/check":                  "A R R R R R L | A R",
	"/yp/:ypId/share/:step":                  "A R R R R R L | A R",
	"/yp/:ypId/shared/:grantId":              "A R R R R R L | A A",
	"/yp/:ypId/requests":                     "A R R R R R L | A A",
	"/yp/:ypId/requests/:requestId":          "A R R R R R L | A A",
	"/yp/:ypId/requests/:requestId/check":    "A R R R R R L | A R",
	"/yp/:ypId/requests/:requestId/answered": "A R R R R R L | A A",
	"/yp/:ypId/looked":                       "A R R R R R L | A A",
	"/yp/:ypId/looked/:index/concern":        "A R R R R R L | A A",
	"/yp/:ypId/family":                       "A R R R R R L | A A",
	"/yp/:ypId/story":                        "A R R R R R L | R A", // the young person's own words
	"/yp/:ypId/story/:section":               "A R R R R R L | R A",
	"/yp/:ypId/handovers/:handoverId":        "A R R R R R L | A A",
	"/work":                                  "R R R A A R L",
	"/work/requests":                         "R R R A A R L",
	"/work/yp/:ypId":                         "R R R A A R L | R R",
	"/work/yp/:ypId/ask":                     "R R R A A R L | R R",
	"/work/yp/:ypId/read":                    "R R R A A R L | R R",
	"/work/yp/:ypId/handover":                "R R R A A R L | R R",
	"/work/yp/:ypId/statutory":               "R R R A R R L | R R", // only a role with a statutory duty
	"/dpo/:orgId/disclosures":                "R R R R R A L",
	"/dpo/:orgId/concerns":                   "R R R R R A L",
	"/dpo/:orgId/log":                        "R R R R R A L",
	"/dpo/:orgId/statutory":                  "R R R R R A L",
	"/dpo/:orgId/statutory/:accessId":        "R R R R R A L",
}

func TestPages_Authz(t *testing.T) {
	w := newWorld(t)
	registered := map[string]bool{}
	for _, r := range w.env.App.Server.Routes() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Name, "page:") {
			registered[r.Path] = true
			if _, ok := pagesAuthzTable[r.Path]; !ok {
				t.Errorf("page GET %s is registered but missing from pagesAuthzTable; add its row", r.Path)
			}
		}
	}
	for path := range pagesAuthzTable {
		if !registered[path] {
			t.Errorf("pagesAuthzTable lists %s, which is not a registered page", path)
		}
	}
	browsers := map[string]*browser{"anonymous": anonymousBrowser(t, w.env)}
	for _, who := range []string{"amara", "leo", "grace", "sam", "priya", "dana"} {
		browsers[who] = signInBrowser(t, w.env, who)
	}
	browsers["grace-for-leo"], browsers["leo-for-leo"] = browsers["grace"], browsers["leo"]
	for path, want := range pagesAuthzTable {
		base, leo, hasLeo := strings.Cut(want, "|")
		cells := map[string]string{}
		for i, v := range strings.Fields(base) {
			cells[pagesAuthzColumns[i]] = v
		}
		if hasLeo {
			for i, v := range strings.Fields(leo) {
				cells[pagesAuthzLeoColumns[i]] = v
			}
		}
		if len(cells) != len(pagesAuthzColumns)+map[bool]int{true: len(pagesAuthzLeoColumns)}[hasLeo] {
			t.Fatalf("pagesAuthzTable %s: %d outcomes, want one per column", path, len(cells))
		}
		for who, exp := range cells {
			yp, grant, request, index, handover := "amara", w.amaraGrant, w.amaraRequest, w.amaraIndex, w.amaraHandover
			if strings.HasSuffix(who, "-for-leo") {
				yp, grant, request, index, handover = "leo", w.leoGrant, w.leoRequest, w.leoIndex, w.leoHandover
			}
			u := strings.NewReplacer(":ypId", yp, ":grantId", grant, ":requestId", request, ":index", strconv.FormatInt(index, 10),
				":step", "who", ":orgId", "riverside-council", ":section", "story-what-helps", ":handoverId", handover,
				":accessId", w.amaraAccess).Replace(path)
			r := browsers[who].get(u)
			var got string
			switch {
			case r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/login"):
				got = "L"
			case r.status == http.StatusOK || r.status == http.StatusSeeOther:
				got = "A"
			case r.status == http.StatusForbidden || r.status == http.StatusNotFound:
				got = "R"
			default:
				got = "?" + strconv.Itoa(r.status)
			}
			if got != exp {
				t.Errorf("GET %s as %s = %d (%s), want %s", u, who, r.status, got, exp)
			}
		}
	}
}
