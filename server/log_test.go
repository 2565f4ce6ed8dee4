package server_test

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"sayso/internal/testenv"
	"sayso/ledger"
)

func getText(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// TestLog_InclusionFromPublicAnswers checks an entry's inclusion using only
// what anyone can fetch: the key, the checkpoint and the proof.
func TestLog_InclusionFromPublicAnswers(t *testing.T) {
	env := testenv.New(t)
	amara, sam := env.SignIn(t, "amara"), env.SignIn(t, "sam")
	grant(t, env, amara, "amara", "sam", "address", "home-visit")
	var indexes []int64
	for range 5 {
		status, body := call(t, env, sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
		mustStatus(t, "read", status, http.StatusOK, body)
		indexes = append(indexes, int64(body["logIndex"].(float64)))
	}
	public := env.Client(t) // no session
	vkey := strings.TrimSpace(getText(t, public, env.URL+"/v1/log/key"))
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("note.NewVerifier(published key) = %v", err)
	}
	signed := getText(t, public, env.URL+"/v1/log/checkpoint")
	n, err := note.Open([]byte(signed), note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("note.Open(checkpoint) = %v", err)
	}
	cp, err := ledger.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size < int64(len(indexes)) {
		t.Fatalf("checkpoint size = %d, want at least %d", cp.Size, len(indexes))
	}
	for _, idx := range indexes {
		var p struct {
			Index, TreeSize int64
			LeafHash        string
			Proof           []string
			Checkpoint      string
		}
		raw := getText(t, public, env.URL+"/v1/log/entries/"+strconv.FormatInt(idx, 10)+"/proof?treeSize="+strconv.FormatInt(cp.Size, 10))
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			t.Fatal(err)
		}
		if p.Checkpoint != signed {
			t.Errorf("proof's checkpoint differs from the published one of the same size")
		}
		leaf := decodeHash(t, p.LeafHash)
		var proof tlog.RecordProof
		for _, h := range p.Proof {
			proof = append(proof, decodeHash(t, h))
		}
		if err := tlog.CheckRecord(proof, cp.Size, cp.Root, idx, leaf); err != nil {
			t.Errorf("CheckRecord(entry %d) = %v, want nil", idx, err)
		}
		leaf[0] ^= 1
		if err := tlog.CheckRecord(proof, cp.Size, cp.Root, idx, leaf); err == nil {
			t.Errorf("CheckRecord(changed leaf %d) = nil, want an error", idx)
		}
	}
	// A size nobody signed has no proof.
	resp, err := public.Get(env.URL + "/v1/log/entries/0/proof?treeSize=" + strconv.FormatInt(cp.Size+100, 10))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("proof for an unsigned size = %d, want 404", resp.StatusCode)
	}
}

func decodeHash(t *testing.T, s string) tlog.Hash {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		t.Fatalf("hash %q: %v", s, err)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func TestFeed_PlainSentences(t *testing.T) {
	env := testenv.New(t)
	amara, sam, grace, priya := env.SignIn(t, "amara"), env.SignIn(t, "sam"), env.SignIn(t, "grace"), env.SignIn(t, "priya")
	grant(t, env, amara, "amara", "sam", "address", "home-visit")
	grant(t, env, grace, "leo", "priya", "education", "education-support")
	status, read1 := call(t, env, sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
	mustStatus(t, "read", status, http.StatusOK, read1)
	if status, _ := read(t, env, sam, "amara", "phone", "home-visit"); status != http.StatusForbidden {
		t.Fatalf("refused read = %d, want 403", status)
	}
	if status, _ := read(t, env, priya, "leo", "education", "education-support"); status != http.StatusOK {
		t.Fatalf("Priya's read = %d, want 200", status)
	}

	status, body := call(t, env, amara, http.MethodGet, "/v1/young-people/amara/disclosures", nil)
	mustStatus(t, "GET disclosures", status, http.StatusOK, body)
	items := body["disclosures"].([]any)
	if len(items) != 1 { // the refused attempt is for the DPO, not the feed
		t.Fatalf("Amara's feed = %v, want one entry", items)
	}
	it := items[0].(map[string]any)
	day := env.Clock.Now().In(londonTZ(t)).Format("Monday 2 January")
	want := "Sam Patel, a social worker at Riverside Council, looked at your address on " + day + " to plan a visit to your home."
	if it["sentence"] != want {
		t.Errorf("sentence = %q, want %q", it["sentence"], want)
	}
	if it["logIndex"] != read1["logIndex"] {
		t.Errorf("feed logIndex = %v, want the read's %v", it["logIndex"], read1["logIndex"])
	}

	status, body = call(t, env, grace, http.MethodGet, "/v1/young-people/leo/disclosures", nil)
	mustStatus(t, "Grace GET Leo's disclosures", status, http.StatusOK, body)
	wantLeo := "Priya Shah, a teacher at Northfield Academy, looked at Leo's school information on " + day + " to help them with school."
	if got := body["disclosures"].([]any)[0].(map[string]any)["sentence"]; got != wantLeo {
		t.Errorf("sentence for Grace = %q, want %q", got, wantLeo)
	}
	for _, who := range []string{"sam", "leo", "dana"} {
		if status, _ := call(t, env, env.SignIn(t, who), http.MethodGet, "/v1/young-people/amara/disclosures", nil); status != http.StatusNotFound {
			t.Errorf("%s GET Amara's disclosures = %d, want 404", who, status)
		}
	}
}

func TestDPO_DisclosuresFilterAndExport(t *testing.T) {
	env := testenv.New(t)
	amara, sam, dana := env.SignIn(t, "amara"), env.SignIn(t, "sam"), env.SignIn(t, "dana")
	grant(t, env, amara, "amara", "sam", "address", "home-visit")
	for range 3 {
		read(t, env, sam, "amara", "address", "home-visit")
	}
	read(t, env, sam, "amara", "phone", "home-visit")               // refused
	read(t, env, env.SignIn(t, "priya"), "amara", "education", "x") // another organisation

	status, body := call(t, env, dana, http.MethodGet, "/v1/organisations/riverside-council/disclosures", nil)
	mustStatus(t, "DPO list", status, http.StatusOK, body)
	if n := len(body["disclosures"].([]any)); n != 4 {
		t.Errorf("Riverside entries = %d, want 4 (3 reads, 1 refusal)", n)
	}
	status, body = call(t, env, dana, http.MethodGet, "/v1/organisations/riverside-council/disclosures?outcome=refused", nil)
	mustStatus(t, "DPO refused", status, http.StatusOK, body)
	if ds := body["disclosures"].([]any); len(ds) != 1 || ds[0].(map[string]any)["category"] != "phone" {
		t.Errorf("refused entries = %v, want the phone attempt", ds)
	}
	// Cursor pages cover everything once.
	seen := map[float64]bool{}
	cursor := ""
	for page := 0; page < 10; page++ {
		status, body = call(t, env, dana, http.MethodGet, "/v1/organisations/riverside-council/disclosures?limit=3"+cursor, nil)
		mustStatus(t, "DPO page", status, http.StatusOK, body)
		for _, d := range body["disclosures"].([]any) {
			idx := d.(map[string]any)["logIndex"].(float64)
			if seen[idx] {
				t.Errorf("entry %v on two pages", idx)
			}
			seen[idx] = true
		}
		next, ok := body["nextCursor"].(string)
		if !ok {
			break
		}
		cursor = "&cursor=" + next
	}
	if len(seen) != 4 {
		t.Errorf("entries over all pages = %d, want 4", len(seen))
	}
	resp, err := dana.Get(env.URL + "/v1/organisations/riverside-council/disclosures?format=csv&outcome=disclosed")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) != 4 || rows[0][0] != "logIndex" || rows[1][7] != "address" {
		t.Errorf("CSV export = %v, %v; want a header and 3 address rows", rows, err)
	}
	resp, err = dana.Get(env.URL + "/v1/organisations/riverside-council/disclosures?format=jsonl")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if resp.Header.Get("Content-Type") != "application/jsonl" || len(lines) != 4 || !json.Valid([]byte(lines[0])) {
		t.Errorf("JSONL export = %q (%s), want 4 JSON lines", raw, resp.Header.Get("Content-Type"))
	}
	for _, who := range []string{"sam", "amara", "ola"} {
		if status, _ := call(t, env, env.SignIn(t, who), http.MethodGet, "/v1/organisations/riverside-council/disclosures", nil); status != http.StatusNotFound {
			t.Errorf("%s GET Riverside's disclosures = %d, want 404", who, status)
		}
	}
	if status, _ := call(t, env, dana, http.MethodGet, "/v1/organisations/northfield-academy/disclosures", nil); status != http.StatusNotFound {
		t.Errorf("Dana GET Northfield's disclosures = %d, want 404", status)
	}
	if status, _ := call(t, env, dana, http.MethodGet, "/v1/organisations/riverside-council/disclosures?from=yesterday", nil); status != http.StatusBadRequest {
		t.Errorf("bad from = %d, want 400", status)
	}
}
