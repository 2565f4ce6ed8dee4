package server_test

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sayso/consent"
	"sayso/internal/testenv"
	"sayso/internal/wire"
	"sayso/ledger"
)

// The continuity and safeguarding scenarios (issue 8), over real HTTP
// against a fresh Sayso each, with a clock the test moves.

// feedIndexes returns the log indexes in a young person's feed as who sees it.
func feedIndexes(t *testing.T, env *testenv.Env, c *http.Client, yp string) []int64 {
	t.Helper()
	status, body := call(t, env, c, http.MethodGet, "/v1/young-people/"+yp+"/disclosures", nil)
	mustStatus(t, "GET disclosures", status, http.StatusOK, body)
	var out []int64
	for _, it := range body["disclosures"].([]any) {
		out = append(out, int64(it.(map[string]any)["logIndex"].(float64)))
	}
	return out
}

// readIndex reads and returns the log index of an allowed read.
func readIndex(t *testing.T, env *testenv.Env, c *http.Client, yp, category, purpose string) (int64, map[string]any) {
	t.Helper()
	status, body := call(t, env, c, http.MethodGet, "/v1/young-people/"+yp+"/records/"+category+"?purpose="+purpose, nil)
	mustStatus(t, "GET records/"+category, status, http.StatusOK, body)
	return int64(body["logIndex"].(float64)), body
}

// orgEntries lists an organisation's log entries with one outcome, as its DPO.
func orgEntries(t *testing.T, env *testenv.Env, dpo *http.Client, outcome string) []map[string]any {
	t.Helper()
	status, body := call(t, env, dpo, http.MethodGet, "/v1/organisations/riverside-council/disclosures?limit=1000&outcome="+outcome, nil)
	mustStatus(t, "GET org disclosures outcome="+outcome, status, http.StatusOK, body)
	var out []map[string]any
	for _, e := range body["disclosures"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// verifyLog checks the whole log as verify-log does, after a fresh checkpoint.
func verifyLog(t *testing.T, env *testenv.Env) {
	t.Helper()
	ctx := t.Context()
	if _, _, err := env.App.Log.Checkpoint(ctx); err != nil {
		t.Fatalf("Checkpoint() = %v, want nil", err)
	}
	origin, err := env.App.Keys.LogOrigin("")
	if err != nil {
		t.Fatalf("LogOrigin() = %v", err)
	}
	vkey, err := ledger.VerifierKey(origin, env.App.Keys.Signing.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("VerifierKey() = %v", err)
	}
	rep, err := ledger.Verify(ctx, env.App.Raw, []string{vkey}, origin, nil)
	if err != nil || !rep.OK() || rep.Entries == 0 {
		t.Errorf("Verify() = %+v, %v; want OK", rep, err)
	}
}

func TestContinuity_Story(t *testing.T) {
	env := testenv.New(t)
	amara, jo := env.SignIn(t, "amara"), env.SignIn(t, "jo")

	write := func(section, text string) {
		t.Helper()
		status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/story/"+section, map[string]any{"text": text})
		mustStatus(t, "POST story/"+section, status, http.StatusCreated, body)
	}
	write("story-about-me", "I'm Amara. I play guitar.")
	write("story-what-helps", "Music helps. Talking while we walk helps.")
	g := grant(t, env, amara, "amara", "jo", "story-what-helps", "plan-support")

	t.Run("JoReadsWhatHelps", func(t *testing.T) {
		_, body := readIndex(t, env, jo, "amara", "story-what-helps", "plan-support")
		recs := body["records"].([]any)
		if len(recs) != 1 || recs[0].(map[string]any)["content"] != "Music helps. Talking while we walk helps." {
			t.Errorf("Jo's read of what helps = %v, want the one section in Amara's words", recs)
		}
	})
	t.Run("OtherSectionsNotShared", func(t *testing.T) {
		if status, reason := read(t, env, jo, "amara", "story-about-me", "plan-support"); status != http.StatusForbidden {
			t.Errorf("Jo reads about-me = %d %s, want 403", status, reason)
		}
	})
	t.Run("AmaraSeesJoRead", func(t *testing.T) {
		status, body := call(t, env, amara, http.MethodGet, "/v1/young-people/amara/story", nil)
		mustStatus(t, "GET story", status, http.StatusOK, body)
		if n := len(body["sections"].([]any)); n != 6 {
			t.Fatalf("story sections = %d, want 6", n)
		}
		for _, s := range body["sections"].([]any) {
			sec := s.(map[string]any)
			reads := sec["reads"].([]any)
			switch sec["category"] {
			case "story-what-helps":
				if len(reads) != 1 || reads[0].(map[string]any)["actorId"] != "jo" || !strings.Contains(reads[0].(map[string]any)["sentence"].(string), "Jo Brennan") {
					t.Errorf("what-helps reads = %v, want one read by Jo", reads)
				}
			case "story-about-me":
				if len(reads) != 0 {
					t.Errorf("about-me reads = %v, want none", reads)
				}
			}
		}
	})
	t.Run("VersionsKeptAndChosen", func(t *testing.T) {
		write("story-what-helps", "Music helps. Please don't phone my mum first.")
		_, body := readIndex(t, env, jo, "amara", "story-what-helps", "plan-support")
		if rec := body["records"].([]any)[0].(map[string]any); rec["version"] != float64(2) {
			t.Errorf("Jo sees version %v, want 2 (the latest)", rec["version"])
		}
		status, out := call(t, env, amara, http.MethodPut, "/v1/young-people/amara/grants/"+g+"/story-version", map[string]any{"version": 1})
		mustStatus(t, "PUT story-version", status, http.StatusOK, out)
		_, body = readIndex(t, env, jo, "amara", "story-what-helps", "plan-support")
		if rec := body["records"].([]any)[0].(map[string]any); rec["version"] != float64(1) || rec["content"] != "Music helps. Talking while we walk helps." {
			t.Errorf("Jo sees %v, want version 1 as Amara chose", rec)
		}
		status, body = call(t, env, amara, http.MethodGet, "/v1/young-people/amara/story", nil)
		mustStatus(t, "GET story", status, http.StatusOK, body)
		versions := -1
		for _, s := range body["sections"].([]any) {
			if sec := s.(map[string]any); sec["category"] == "story-what-helps" {
				versions = len(sec["versions"].([]any))
			}
		}
		if versions != 2 {
			t.Errorf("what-helps versions = %d, want both kept", versions)
		}
	})
	t.Run("OnlyAmaraWrites", func(t *testing.T) {
		status, body := call(t, env, jo, http.MethodPost, "/v1/young-people/amara/story/story-goals", map[string]any{"text": "x"})
		if status != http.StatusNotFound {
			t.Errorf("Jo writes Amara's story = %d %v, want 404", status, body)
		}
	})
}

func TestContinuity_Handover(t *testing.T) {
	env := testenv.New(t)
	amara, sam, rosa, dana := env.SignIn(t, "amara"), env.SignIn(t, "sam"), env.SignIn(t, "rosa"), env.SignIn(t, "dana")
	grant(t, env, amara, "amara", "sam", "address", "home-visit")
	grant(t, env, amara, "amara", "sam", "social-care", "plan-support")
	readIndex(t, env, sam, "amara", "address", "home-visit")

	status, ho := call(t, env, sam, http.MethodPost, "/v1/handovers",
		map[string]any{"youngPersonId": "amara", "successorId": "rosa", "note": "I'm leaving Riverside. Rosa knows your plan and will be kind."})
	mustStatus(t, "POST handovers", status, http.StatusCreated, ho)
	status, ended := call(t, env, dana, http.MethodPost, "/v1/organisations/riverside-council/memberships/m-sam/end", nil)
	mustStatus(t, "POST memberships/m-sam/end", status, http.StatusOK, ended)

	t.Run("SamsAccessEnds", func(t *testing.T) {
		if status, reason := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusForbidden {
			t.Errorf("Sam reads after leaving = %d %s, want 403", status, reason)
		}
	})
	t.Run("HisSharingShowsAsEnded", func(t *testing.T) {
		status, body := call(t, env, amara, http.MethodGet, "/v1/young-people/amara/grants", nil)
		mustStatus(t, "GET grants", status, http.StatusOK, body)
		sams := 0
		for _, g := range body["grants"].([]any) {
			if m := g.(map[string]any); m["professionalId"] == "sam" {
				sams++
				if m["active"] != false {
					t.Errorf("grant %v to Sam after he left, want ended", m)
				}
			}
		}
		if sams != 2 {
			t.Errorf("Amara's grants to Sam = %d, want his 2 (ended)", sams)
		}
	})
	t.Run("SuccessorReadsNothingYet", func(t *testing.T) {
		for _, c := range []string{"address", "social-care"} {
			if status, reason := read(t, env, rosa, "amara", c, "home-visit"); status != http.StatusForbidden {
				t.Errorf("Rosa reads %s before Amara agrees = %d %s, want 403", c, status, reason)
			}
		}
	})
	t.Run("NoteReachesAmara", func(t *testing.T) {
		status, body := call(t, env, amara, http.MethodGet, "/v1/young-people/amara/handovers", nil)
		mustStatus(t, "GET handovers", status, http.StatusOK, body)
		hs := body["handovers"].([]any)
		if len(hs) != 1 {
			t.Fatalf("handovers = %v, want one", hs)
		}
		h := hs[0].(map[string]any)
		if h["note"] != "I'm leaving Riverside. Rosa knows your plan and will be kind." || h["successorId"] != "rosa" || len(h["shares"].([]any)) != 2 {
			t.Errorf("handover = %v, want Sam's note, Rosa, and his two sharings pre-filled", h)
		}
	})
	t.Run("AmaraChangesThenRosaReads", func(t *testing.T) {
		until := env.Clock.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
		status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/handovers/"+ho["id"].(string)+"/answer",
			map[string]any{"answer": "changed", "shares": []any{map[string]any{"category": "address", "purpose": "home-visit", "until": until}}})
		mustStatus(t, "POST handover answer", status, http.StatusOK, body)
		if status, reason := read(t, env, rosa, "amara", "address", "home-visit"); status != http.StatusOK {
			t.Errorf("Rosa reads the address Amara shared = %d %s, want 200", status, reason)
		}
		if status, reason := read(t, env, rosa, "amara", "social-care", "plan-support"); status != http.StatusForbidden {
			t.Errorf("Rosa reads social care Amara left out = %d %s, want 403", status, reason)
		}
		status, body = call(t, env, amara, http.MethodPost, "/v1/young-people/amara/handovers/"+ho["id"].(string)+"/answer", map[string]any{"answer": "declined"})
		if status != http.StatusConflict {
			t.Errorf("answering twice = %d %v, want 409", status, body)
		}
	})
	t.Run("OnlyToAColleague", func(t *testing.T) {
		priya := env.SignIn(t, "priya")
		grant(t, env, amara, "amara", "priya", "education", "education-support")
		status, body := call(t, env, priya, http.MethodPost, "/v1/handovers", map[string]any{"youngPersonId": "amara", "successorId": "rosa"})
		if status != http.StatusForbidden {
			t.Errorf("Priya hands over to Rosa (another organisation) = %d %v, want 403", status, body)
		}
	})
}

func TestContinuity_Statutory(t *testing.T) {
	env := testenv.New(t)
	amara, sam, priya, dana := env.SignIn(t, "amara"), env.SignIn(t, "sam"), env.SignIn(t, "priya"), env.SignIn(t, "dana")
	open := func(c *http.Client, reason string) (int, map[string]any) {
		return call(t, env, c, http.MethodPost, "/v1/young-people/amara/statutory-access", map[string]any{
			"categories": []string{"social-care", "contact"}, "purpose": "child-protection-enquiry", "condition": "children-act-1989-s47",
			"reason": reason, "hours": 72})
	}

	status, first := open(sam, "Her school reported bruising this morning.")
	mustStatus(t, "Sam opens statutory access", status, http.StatusCreated, first)
	idx, body := readIndex(t, env, sam, "amara", "social-care", "child-protection-enquiry")
	if body["statutory"] != true || len(body["records"].([]any)) != 1 {
		t.Errorf("statutory read = %v, want flagged with Amara's social care record", body)
	}

	t.Run("WithoutStatutoryRoleRefused", func(t *testing.T) {
		status, body := open(priya, "I am worried.")
		if status != http.StatusForbidden {
			t.Errorf("Priya (a teacher) opens statutory access = %d %v, want 403", status, body)
		}
		// The attempt is in the log for Northfield's DPO (there is none in
		// the demo, so look in the store).
		es, err := env.App.Raw.DisclosuresBy(t.Context(), "northfield-academy", consent.DisclosureFilter{Outcome: consent.OutcomeRefused}, -1, 100)
		if err != nil || len(es) != 1 || es[0].ActorID != "priya" || es[0].Purpose != "child-protection-enquiry" {
			t.Errorf("Northfield's refused entries = %+v, %v; want Priya's one statutory attempt", es, err)
		}
		if status, reason := read(t, env, priya, "amara", "social-care", "child-protection-enquiry"); status != http.StatusForbidden || reason != "refused:not-a-statutory-role" {
			t.Errorf("Priya reads under a statutory purpose = %d %s, want 403 refused:not-a-statutory-role", status, reason)
		}
	})
	t.Run("FlaggedForDPO", func(t *testing.T) {
		status, body := call(t, env, dana, http.MethodGet, "/v1/organisations/riverside-council/statutory", nil)
		mustStatus(t, "GET statutory queue", status, http.StatusOK, body)
		as := body["accesses"].([]any)
		if len(as) != 1 {
			t.Fatalf("queue = %v, want one access", as)
		}
		a := as[0].(map[string]any)
		if a["reviewed"] != false || a["access"].(map[string]any)["reason"] != "Her school reported bruising this morning." ||
			len(a["reads"].([]any)) != 1 || int64(a["reads"].([]any)[0].(float64)) != idx {
			t.Errorf("queue entry = %v, want unreviewed, with the reason and read %d", a, idx)
		}
		status, out := call(t, env, dana, http.MethodPost, "/v1/organisations/riverside-council/statutory/"+first["id"].(string)+"/reviewed", map[string]any{"note": "Proportionate."})
		mustStatus(t, "POST reviewed", status, http.StatusCreated, out)
	})
	t.Run("AppearsForAmara", func(t *testing.T) {
		if got := feedIndexes(t, env, amara, "amara"); !slices.Contains(got, idx) {
			t.Errorf("Amara's feed = %v, want the statutory read %d", got, idx)
		}
	})
	t.Run("BlockDoesNotStopIt", func(t *testing.T) {
		status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/blocks", map[string]any{"professionalId": "sam"})
		mustStatus(t, "POST blocks", status, http.StatusNoContent, body)
		if status, reason := read(t, env, sam, "amara", "social-care", "child-protection-enquiry"); status != http.StatusOK {
			t.Errorf("statutory read after a block = %d %s, want 200 (a duty, not consent)", status, reason)
		}
	})
	t.Run("EndsAfter72Hours", func(t *testing.T) {
		env.Clock.Advance(72*time.Hour + time.Minute)
		sam := env.SignIn(t, "sam")
		if status, reason := read(t, env, sam, "amara", "social-care", "child-protection-enquiry"); status != http.StatusForbidden || reason != "refused:no-statutory-access" {
			t.Errorf("read after 72 hours = %d %s, want 403 refused:no-statutory-access", status, reason)
		}
	})
}

func TestContinuity_DelayTelling(t *testing.T) {
	env := testenv.New(t)
	sam, dana := env.SignIn(t, "sam"), env.SignIn(t, "dana")
	status, access := call(t, env, sam, http.MethodPost, "/v1/young-people/amara/statutory-access", map[string]any{
		"categories": []string{"social-care"}, "purpose": "child-protection-enquiry", "condition": "dpa2018-sch1-para18",
		"reason": "Police strategy discussion today."})
	mustStatus(t, "open statutory access", status, http.StatusCreated, access)
	delay := func(days int, reason string) (int, map[string]any) {
		return call(t, env, dana, http.MethodPost, "/v1/organisations/riverside-council/statutory/"+access["id"].(string)+"/delay",
			map[string]any{"reason": reason, "reviewBy": env.Clock.Now().Add(time.Duration(days) * 24 * time.Hour).UTC().Format(time.RFC3339)})
	}
	status, body := delay(29, "Too long.")
	if status != http.StatusBadRequest {
		t.Errorf("delay of 29 days = %d %v, want 400", status, body)
	}
	status, body = delay(7, "Telling her now could put her at risk during the enquiry.")
	mustStatus(t, "delay 7 days", status, http.StatusCreated, body)
	idx, _ := readIndex(t, env, sam, "amara", "social-care", "child-protection-enquiry")

	amaraSees := func() bool {
		t.Helper()
		return slices.Contains(feedIndexes(t, env, env.SignIn(t, "amara"), "amara"), idx)
	}
	if amaraSees() {
		t.Errorf("Amara sees the statutory read during the delay, want it hidden")
	}
	statutoryGrants := func() int {
		t.Helper()
		status, body := call(t, env, env.SignIn(t, "amara"), http.MethodGet, "/v1/young-people/amara/grants", nil)
		mustStatus(t, "GET grants", status, http.StatusOK, body)
		n := 0
		for _, g := range body["grants"].([]any) {
			if g.(map[string]any)["statutory"] == true {
				n++
			}
		}
		return n
	}
	t.Run("GrantHiddenToo", func(t *testing.T) {
		if n := statutoryGrants(); n != 0 {
			t.Errorf("Amara's grants during the delay include %d statutory, want the access hidden", n)
		}
	})
	t.Run("QuestionAboutHiddenEntryRefused", func(t *testing.T) {
		status, body := call(t, env, env.SignIn(t, "amara"), http.MethodPost, "/v1/young-people/amara/questions", map[string]any{"logIndex": idx})
		if status != http.StatusNotFound {
			t.Errorf("asking about a hidden entry = %d %v, want 404 (nothing revealed)", status, body)
		}
	})
	t.Run("RenewedStaysHidden", func(t *testing.T) {
		env.Clock.Advance(6 * 24 * time.Hour)
		dana = env.SignIn(t, "dana")
		status, body := delay(5, "The enquiry is not finished; review again next week.")
		mustStatus(t, "renew delay", status, http.StatusCreated, body)
		env.Clock.Advance(2 * 24 * time.Hour) // past the first review date
		if amaraSees() {
			t.Errorf("Amara sees it after the first review date though the delay was renewed, want hidden")
		}
	})
	t.Run("AppearsAtReviewDate", func(t *testing.T) {
		env.Clock.Advance(3*24*time.Hour + time.Minute)
		if !amaraSees() {
			t.Errorf("Amara does not see the statutory read after the review date, want it shown")
		}
		if n := statutoryGrants(); n != 1 {
			t.Errorf("Amara's statutory grants after the review date = %d, want 1 (ended, shown)", n)
		}
	})
	t.Run("NoDelayOnceTold", func(t *testing.T) {
		dana = env.SignIn(t, "dana")
		if status, body := delay(7, "Too late to hide it."); status != http.StatusConflict {
			t.Errorf("delay after Amara was told = %d %v, want 409", status, body)
		}
	})
	t.Run("EveryDecisionLogged", func(t *testing.T) {
		dana := env.SignIn(t, "dana")
		if got := len(orgEntries(t, env, dana, "telling-delayed")); got != 2 {
			t.Errorf("telling-delayed entries = %d, want 2 (the first delay and its renewal)", got)
		}
		if got := len(orgEntries(t, env, dana, "statutory-opened")); got != 1 {
			t.Errorf("statutory-opened entries = %d, want 1", got)
		}
		verifyLog(t, env)
	})
}

func TestContinuity_FamilyRules(t *testing.T) {
	env := testenv.New(t)
	grace, sam, leo := env.SignIn(t, "grace"), env.SignIn(t, "sam"), env.SignIn(t, "leo")
	status, body := call(t, env, sam, http.MethodPost, "/v1/young-people/leo/statutory-access", map[string]any{
		"categories": []string{"social-care"}, "purpose": "child-protection-enquiry", "condition": "children-act-1989-s47", "reason": "Worry raised by school."})
	mustStatus(t, "open statutory access for Leo", status, http.StatusCreated, body)
	idx, _ := readIndex(t, env, sam, "leo", "social-care", "child-protection-enquiry")
	// Reviewed at once, so Leo is told without waiting for the hold.
	status, out := call(t, env, env.SignIn(t, "dana"), http.MethodPost, "/v1/organisations/riverside-council/statutory/"+body["id"].(string)+"/reviewed", map[string]any{})
	mustStatus(t, "review Leo's statutory access", status, http.StatusCreated, out)

	t.Run("GraceCannotSeeLeosSocialCare", func(t *testing.T) {
		status, body := call(t, env, grace, http.MethodGet, "/v1/young-people/leo/holdings", nil)
		mustStatus(t, "GET Leo's holdings as Grace", status, http.StatusOK, body)
		var cats []string
		for _, h := range body["holdings"].([]any) {
			cats = append(cats, h.(map[string]any)["category"].(string))
		}
		if slices.Contains(cats, "social-care") || !slices.Contains(cats, "education") {
			t.Errorf("Grace sees Leo's holdings %v, want education but not social care", cats)
		}
		if got := feedIndexes(t, env, grace, "leo"); slices.Contains(got, idx) {
			t.Errorf("Grace's view of Leo's feed = %v, want the social care read %d withheld", got, idx)
		}
		status, body = call(t, env, grace, http.MethodPost, "/v1/young-people/leo/grants", map[string]any{"professionalId": "sam", "category": "social-care", "purpose": "plan-support"})
		if status != http.StatusBadRequest {
			t.Errorf("Grace shares Leo's social care = %d %v, want 400", status, body)
		}
	})
	t.Run("LeoSeesHisOwn", func(t *testing.T) {
		if got := feedIndexes(t, env, leo, "leo"); !slices.Contains(got, idx) {
			t.Errorf("Leo's feed = %v, want the statutory read %d", got, idx)
		}
	})
	t.Run("LeoSeesWhatGraceDid", func(t *testing.T) {
		grant(t, env, grace, "leo", "priya", "education", "education-support")
		status, body := call(t, env, leo, http.MethodGet, "/v1/young-people/leo/family-actions", nil)
		mustStatus(t, "GET family-actions", status, http.StatusOK, body)
		as := body["actions"].([]any)
		if len(as) != 1 || !strings.Contains(as[0].(map[string]any)["sentence"].(string), "Grace Williams (your mum) shared your school information with Priya Shah") {
			t.Errorf("family actions = %v, want Grace sharing Leo's school information with Priya", as)
		}
	})
	t.Run("AmaraChoosesWhatHerGranSees", func(t *testing.T) {
		amara, ruth := env.SignIn(t, "amara"), env.SignIn(t, "ruth")
		if status, body := call(t, env, ruth, http.MethodGet, "/v1/young-people/amara/holdings", nil); status != http.StatusNotFound {
			t.Errorf("Ruth sees Amara's holdings before Amara lets her = %d %v, want 404", status, body)
		}
		status, body := call(t, env, amara, http.MethodPut, "/v1/young-people/amara/family/ruth", map[string]any{"see": []string{"education"}})
		mustStatus(t, "PUT family/ruth", status, http.StatusOK, body)
		status, body = call(t, env, ruth, http.MethodGet, "/v1/young-people/amara/holdings", nil)
		mustStatus(t, "GET holdings as Ruth", status, http.StatusOK, body)
		var cats []string
		for _, h := range body["holdings"].([]any) {
			cats = append(cats, h.(map[string]any)["category"].(string))
		}
		if fmt.Sprint(cats) != "[education]" {
			t.Errorf("Ruth sees categories %v, want [education] only", cats)
		}
		if status, body := call(t, env, ruth, http.MethodPost, "/v1/young-people/amara/grants", map[string]any{"professionalId": "priya", "category": "education", "purpose": "education-support"}); status != http.StatusForbidden {
			t.Errorf("Ruth shares for Amara without being allowed to act = %d %v, want 403", status, body)
		}
	})
}

func TestContinuity_WhyDidYouLook(t *testing.T) {
	env := testenv.New(t)
	amara, sam, dana := env.SignIn(t, "amara"), env.SignIn(t, "sam"), env.SignIn(t, "dana")
	grant(t, env, amara, "amara", "sam", "address", "home-visit")
	idx, _ := readIndex(t, env, sam, "amara", "address", "home-visit")
	idx2, _ := readIndex(t, env, sam, "amara", "address", "home-visit")

	status, q := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/questions", map[string]any{"logIndex": idx, "message": "Why did you look at my address?"})
	mustStatus(t, "ask why", status, http.StatusCreated, q)
	status, q2 := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/questions", map[string]any{"logIndex": idx2})
	mustStatus(t, "ask why again", status, http.StatusCreated, q2)

	t.Run("ReachesDanaWithDeadline", func(t *testing.T) {
		status, body := call(t, env, dana, http.MethodGet, "/v1/organisations/riverside-council/questions", nil)
		mustStatus(t, "GET org questions", status, http.StatusOK, body)
		qs := body["questions"].([]any)
		if len(qs) != 2 {
			t.Fatalf("Dana's questions = %v, want 2", qs)
		}
		asked, _ := time.Parse(time.RFC3339, q["askedAt"].(string))
		due, _ := time.Parse(time.RFC3339, q["dueBy"].(string))
		if days := due.Sub(asked).Hours() / 24; days < 26 || days > 33 || q["overdue"] != false {
			t.Errorf("due %v after asking at %v (%.1f days), overdue %v; want 20 working days (26 to 33 calendar days), not overdue", due, asked, days, q["overdue"])
		}
	})
	t.Run("AnswerShowsForAmara", func(t *testing.T) {
		status, body := call(t, env, dana, http.MethodPost, "/v1/organisations/riverside-council/questions/"+q["id"].(string)+"/answer",
			map[string]any{"answer": "Sam was planning his visit to your home on Thursday."})
		mustStatus(t, "answer", status, http.StatusOK, body)
		status, body = call(t, env, amara, http.MethodGet, "/v1/young-people/amara/questions", nil)
		mustStatus(t, "GET questions", status, http.StatusOK, body)
		found := false
		for _, x := range body["questions"].([]any) {
			if m := x.(map[string]any); m["id"] == q["id"] {
				found = m["answer"] == "Sam was planning his visit to your home on Thursday." && int64(m["logIndex"].(float64)) == idx
			}
		}
		if !found {
			t.Errorf("Amara's questions = %v, want Dana's answer beside entry %d", body["questions"], idx)
		}
	})
	t.Run("OverdueShownToBoth", func(t *testing.T) {
		env.Clock.Advance(40 * 24 * time.Hour)
		for who, path := range map[string]string{"amara": "/v1/young-people/amara/questions", "dana": "/v1/organisations/riverside-council/questions"} {
			status, body := call(t, env, env.SignIn(t, who), http.MethodGet, path, nil)
			mustStatus(t, "GET questions as "+who, status, http.StatusOK, body)
			if n := len(body["questions"].([]any)); n != 2 {
				t.Errorf("%s sees %d questions, want 2", who, n)
			}
			for _, x := range body["questions"].([]any) {
				m := x.(map[string]any)
				if want := m["id"] == q2["id"]; m["overdue"] != want {
					t.Errorf("%s sees question %v overdue = %v, want %v", who, m["id"], m["overdue"], want)
				}
			}
		}
	})
	t.Run("InTheLog", func(t *testing.T) {
		dana := env.SignIn(t, "dana")
		if got := len(orgEntries(t, env, dana, "question-asked")); got != 2 {
			t.Errorf("question-asked entries = %d, want 2", got)
		}
		if got := len(orgEntries(t, env, dana, "question-answered")); got != 1 {
			t.Errorf("question-answered entries = %d, want 1", got)
		}
		verifyLog(t, env)
	})
}

// The operator decides which roles hold a statutory duty.
func TestContinuity_StatutoryRolesFromOperator(t *testing.T) {
	env := testenv.New(t, func(o *wire.Options) { o.StatutoryRoles = []consent.Role{consent.RoleTeacher} })
	body := map[string]any{"categories": []string{"education"}, "purpose": "child-protection-enquiry", "condition": "children-act-2004-s11", "reason": "Worry raised in class."}
	for who, want := range map[string]int{"priya": http.StatusCreated, "sam": http.StatusForbidden} {
		if status, out := call(t, env, env.SignIn(t, who), http.MethodPost, "/v1/young-people/amara/statutory-access", body); status != want {
			t.Errorf("%s opens statutory access with teachers marked = %d %v, want %d", who, status, out, want)
		}
	}
}

// Leaving without a handover: access ends at once and the sharing shows as
// ended; a DPO of another organisation cannot end the membership.
func TestContinuity_LeaverWithoutHandover(t *testing.T) {
	env := testenv.New(t)
	amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
	g := grant(t, env, amara, "amara", "sam", "address", "home-visit")
	readIndex(t, env, sam, "amara", "address", "home-visit")
	if status, body := call(t, env, env.SignIn(t, "ola"), http.MethodPost, "/v1/organisations/northfield-academy/memberships/m-sam/end", nil); status != http.StatusNotFound {
		t.Errorf("ending Sam's Riverside membership through Northfield = %d %v, want 404", status, body)
	}
	status, body := call(t, env, env.SignIn(t, "ola"), http.MethodPost, "/v1/organisations/riverside-council/memberships/m-sam/end", nil)
	mustStatus(t, "operator ends m-sam", status, http.StatusOK, body)
	if status, reason := read(t, env, sam, "amara", "address", "home-visit"); status != http.StatusForbidden {
		t.Errorf("Sam reads after leaving = %d %s, want 403", status, reason)
	}
	status, body = call(t, env, amara, http.MethodGet, "/v1/young-people/amara/grants", nil)
	mustStatus(t, "GET grants", status, http.StatusOK, body)
	found := false
	for _, x := range body["grants"].([]any) {
		if m := x.(map[string]any); m["id"] == g {
			found = true
			if m["active"] != false || m["stoppedBy"] != "ola" {
				t.Errorf("Sam's grant after he left = %v, want stopped by ola", m)
			}
		}
	}
	if !found {
		t.Errorf("Amara's grants lack %s, want it listed as stopped", g)
	}
}

// What a family member allowed to see part of a young person's information
// still cannot see or do (Ruth, Amara's gran, allowed contact details and
// to act on them).
func TestContinuity_FamilyLimits(t *testing.T) {
	env := testenv.New(t)
	amara, sam, ruth := env.SignIn(t, "amara"), env.SignIn(t, "sam"), env.SignIn(t, "ruth")
	status, body := call(t, env, amara, http.MethodPut, "/v1/young-people/amara/family/ruth", map[string]any{"see": []string{"contact"}, "act": true})
	mustStatus(t, "PUT family/ruth", status, http.StatusOK, body)

	t.Run("CannotLiftABlock", func(t *testing.T) {
		status, body := call(t, env, amara, http.MethodPost, "/v1/young-people/amara/blocks", map[string]any{"professionalId": "jo"})
		mustStatus(t, "block jo", status, http.StatusNoContent, body)
		if status, body := call(t, env, ruth, http.MethodDelete, "/v1/young-people/amara/blocks/jo", nil); status != http.StatusForbidden {
			t.Errorf("Ruth lifts Amara's block = %d %v, want 403", status, body)
		}
	})
	t.Run("MixedRequestNotHers", func(t *testing.T) {
		status, req := call(t, env, sam, http.MethodPost, "/v1/young-people/amara/requests",
			map[string]any{"categories": []string{"address", "social-care"}, "purpose": "plan-support", "reason": "To plan support with you."})
		mustStatus(t, "ask", status, http.StatusCreated, req)
		status, body := call(t, env, ruth, http.MethodGet, "/v1/young-people/amara/requests", nil)
		mustStatus(t, "GET requests as Ruth", status, http.StatusOK, body)
		if n := len(body["requests"].([]any)); n != 0 {
			t.Errorf("Ruth sees %d requests, want none (the request asks for social care too)", n)
		}
		if status, body := call(t, env, ruth, http.MethodPost, "/v1/young-people/amara/requests/"+req["id"].(string)+"/decision", map[string]any{"approve": []string{"address"}}); status != http.StatusNotFound {
			t.Errorf("Ruth answers the mixed request = %d %v, want 404", status, body)
		}
	})
	t.Run("SocialCareHandoverNotHers", func(t *testing.T) {
		grant(t, env, amara, "amara", "sam", "address", "home-visit")
		grant(t, env, amara, "amara", "sam", "social-care", "plan-support")
		status, ho := call(t, env, sam, http.MethodPost, "/v1/handovers", map[string]any{"youngPersonId": "amara", "successorId": "rosa", "note": "About your plan."})
		mustStatus(t, "hand over", status, http.StatusCreated, ho)
		status, body := call(t, env, ruth, http.MethodGet, "/v1/young-people/amara/handovers", nil)
		mustStatus(t, "GET handovers as Ruth", status, http.StatusOK, body)
		if n := len(body["handovers"].([]any)); n != 0 {
			t.Errorf("Ruth sees %d handovers, want none (it passes on social care)", n)
		}
		if status, body := call(t, env, ruth, http.MethodPost, "/v1/young-people/amara/handovers/"+ho["id"].(string)+"/answer", map[string]any{"answer": "declined"}); status != http.StatusNotFound {
			t.Errorf("Ruth declines it for Amara = %d %v, want 404", status, body)
		}
	})
	t.Run("SeesOnlyHerOwnRule", func(t *testing.T) {
		status, body := call(t, env, ruth, http.MethodGet, "/v1/young-people/amara/family", nil)
		mustStatus(t, "GET family as Ruth", status, http.StatusOK, body)
		if n := len(body["family"].([]any)); n != 1 {
			t.Errorf("Ruth's view of the family has %d members, want 1 (herself)", n)
		}
		for _, f := range body["family"].([]any) {
			if m := f.(map[string]any); fmt.Sprint(m["see"]) != "[contact]" {
				t.Errorf("Ruth's view of the family = %v, want only her own rule [contact]", m)
			}
		}
	})
	t.Run("NoHandoverWithoutSharing", func(t *testing.T) {
		if status, body := call(t, env, env.SignIn(t, "rosa"), http.MethodPost, "/v1/handovers", map[string]any{"youngPersonId": "amara", "successorId": "sam"}); status != http.StatusNotFound {
			t.Errorf("Rosa, who has nothing shared, hands Amara over = %d %v, want 404", status, body)
		}
	})
	t.Run("StatutoryDoesNotRevealWhoExists", func(t *testing.T) {
		body := map[string]any{"categories": []string{"social-care"}, "purpose": "child-protection-enquiry", "condition": "dpa2018-sch1-para18", "reason": "x"}
		a, _ := call(t, env, ruth, http.MethodPost, "/v1/young-people/amara/statutory-access", body)
		b, _ := call(t, env, ruth, http.MethodPost, "/v1/young-people/nobody/statutory-access", body)
		if a != http.StatusForbidden || b != http.StatusForbidden {
			t.Errorf("Ruth opens statutory access for amara, nobody = %d, %d; want 403 for both", a, b)
		}
	})
}
