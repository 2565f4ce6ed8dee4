package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"golang.org/x/mod/sumdb/note"

	"sayso/consent"
	"sayso/internal/apitest"
	"sayso/internal/testenv"
	"sayso/internal/wire"
	"sayso/keys"
	"sayso/store/sqlite"
)

// instance is a whole Sayso on a data dir that outlives it, so tests can
// stop it, work on the files, and start it again.
type instance struct {
	t   *testing.T
	url string
	app *wire.Sayso
	ts  *httptest.Server
}

func startInstance(t *testing.T, dir string) *instance {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	app, err := wire.Build(context.Background(), testenv.Logger(t), wire.Options{DataDir: dir, Dev: true, PublicURL: url, SessionIdle: time.Hour, SessionAbsolute: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Server
	ts.Start()
	return &instance{t: t, url: url, app: app, ts: ts}
}

func (in *instance) stop() {
	in.ts.Close()
	if err := in.app.Close(); err != nil {
		in.t.Fatal(err)
	}
}

func (in *instance) signIn(who string) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := apitest.Client(in.t, jar)
	resp, err := c.Get(in.url + "/login?login_hint=" + who)
	if err != nil {
		in.t.Fatal(err)
	}
	resp.Body.Close()
	return c
}

func (in *instance) do(c *http.Client, method, path string, body any) map[string]any {
	in.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, in.url+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", in.url)
	resp, err := c.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		in.t.Fatalf("%s %s = %d %v", method, path, resp.StatusCode, out)
	}
	return out
}

func TestKeys_NoPlainContentOnDisk(t *testing.T) {
	dir := t.TempDir()
	in := startInstance(t, dir)
	defer in.stop()
	amara, sam := in.signIn("amara"), in.signIn("sam")
	reason := "Planning the review meeting about the bedroom damp"
	in.do(sam, http.MethodPost, "/v1/young-people/amara/requests", map[string]any{"categories": []string{"address"}, "purpose": "home-visit", "reason": reason})
	in.do(amara, http.MethodPost, "/v1/young-people/amara/grants", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit"})
	got := in.do(sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
	if !strings.Contains(toJSON(got), "Willow Road") {
		t.Fatalf("Sam's read = %v, want Amara's address (or this test proves nothing)", got)
	}
	// Search the database and its write-ahead log while Sayso is running.
	for _, secret := range []string{"Willow Road", "Amara Okafor", "07700 900123", reason, "bedroom damp"} {
		for _, f := range []string{"sayso.db", "sayso.db-wal"} {
			raw, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s holds %q in the clear", f, secret)
			}
		}
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestKeys_EraseReachesOldCopies(t *testing.T) {
	dir := t.TempDir()
	in := startInstance(t, dir)
	amara, sam := in.signIn("amara"), in.signIn("sam")
	in.do(amara, http.MethodPost, "/v1/young-people/amara/grants", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit"})
	for range 3 {
		in.do(sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
	}
	if _, _, err := in.app.Log.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	in.stop()
	backup := copyDir(t, dir) // the copy an attacker or an old backup keeps

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "erase", "--young-person", "amara", "--data-dir", dir, "--quiet"}, envOf(nil), &out, &errOut); code != 0 {
		t.Fatalf("sayso keys erase = %d\n%s%s", code, out.String(), errOut.String())
	}
	// The old copy, opened with today's keys: Amara's content stays shut.
	// (So does everyone else's: a shred retires the key that wrapped every
	// key in that copy, which is why backups are taken afresh after one.)
	raw, err := sqlite.Open(context.Background(), nil, filepath.Join(backup, "sayso.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.GetKey(context.Background(), "amara"); err != nil {
		t.Fatalf("the copy should still hold Amara's wrapped key (that is the point): %v", err)
	}
	kek, err := keys.OpenKEK(filepath.Join(dir, "keys", "kek.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	sealed := keys.NewSealedStore(raw, keys.NewVault(kek, raw, 10, 0, nil))
	if hs, err := sealed.HoldingsOf(context.Background(), "amara"); err == nil {
		for _, h := range hs {
			if h.Summary != "" {
				t.Errorf("holding %s from the pre-erasure copy opened as %q, want nothing", h.ID, h.Summary)
			}
		}
	}
	if p, err := sealed.GetPerson(context.Background(), "amara"); err == nil && p.Name != "" {
		t.Errorf("Amara's name from the pre-erasure copy = %q, want nothing", p.Name)
	}
	// The log still verifies, on the live store and on the copy.
	for _, d := range []string{dir, backup} {
		out.Reset()
		if code := run(context.Background(), []string{"verify-log", "--data-dir", d, "--quiet"}, envOf(nil), &out, &errOut); code != 0 {
			t.Errorf("verify-log on %s after erasure = %d %s", filepath.Base(d), code, out.String())
		}
	}
	// Amara's feed entries are still there, with their sealed part shut.
	live := startInstance(t, dir)
	defer live.stop()
	entries, err := live.app.Store.DisclosuresAbout(context.Background(), "amara", -1, 10)
	if err != nil || len(entries) != 3 {
		t.Fatalf("entries about Amara after erasure = %d, %v, want 3", len(entries), err)
	}
	d, err := consent.DecodeDisclosure(context.Background(), live.app.Vault, entries[0].Data)
	if err != nil || !d.Erased || d.GrantID != "" {
		t.Errorf("DecodeDisclosure(erased entry) = %+v, %v, want Erased and no grant", d, err)
	}
}

func TestKeys_SigningRotationKeepsOldSignaturesValid(t *testing.T) {
	dir := t.TempDir()
	in := startInstance(t, dir)
	amara, sam := in.signIn("amara"), in.signIn("sam")
	receipt := in.do(amara, http.MethodPost, "/v1/young-people/amara/grants", map[string]any{"professionalId": "sam", "category": "address", "purpose": "home-visit"})["receipt"].(string)
	in.do(sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
	_, oldCheckpoint, err := in.app.Log.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in.stop()

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "rotate-signing", "--data-dir", dir}, envOf(nil), &out, &errOut); code != 0 {
		t.Fatalf("sayso keys rotate-signing = %d %s", code, errOut.String())
	}
	in = startInstance(t, dir)
	defer in.stop()
	sam = in.signIn("sam")
	in.do(sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", nil)
	_, newCheckpoint, err := in.app.Log.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	public := apitest.Client(t, nil)
	resp, err := public.Get(in.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	set, err := jwk.Parse(raw)
	if err != nil || set.Len() != 2 {
		t.Fatalf("JWKS after rotation = %d keys, %v, want 2", set.Len(), err)
	}
	if _, err := jws.Verify([]byte(receipt), jws.WithKeySet(set, jws.WithRequireKid(true))); err != nil {
		t.Errorf("jws.Verify(receipt from before the rotation) = %v, want nil", err)
	}
	resp, err = public.Get(in.url + "/v1/log/keys")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var verifiers []note.Verifier
	for _, line := range strings.Fields(string(raw)) {
		v, err := note.NewVerifier(line)
		if err != nil {
			t.Fatal(err)
		}
		verifiers = append(verifiers, v)
	}
	for name, cp := range map[string][]byte{"before": oldCheckpoint, "after": newCheckpoint} {
		if _, err := note.Open(cp, note.VerifierList(verifiers...)); err != nil {
			t.Errorf("note.Open(checkpoint signed %s the rotation) = %v, want nil", name, err)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"verify-log", "--data-dir", dir, "--quiet"}, envOf(nil), &out, &errOut); code != 0 {
		t.Errorf("verify-log after signing rotation = %d %s", code, out.String())
	}
}

func TestKeys_RotateCommandResumes(t *testing.T) {
	dir := t.TempDir()
	in := startInstance(t, dir) // seeding gives each demo young person a key
	in.stop()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "rotate", "--retire", "--data-dir", dir, "--quiet"}, envOf(nil), &out, &errOut); code != 0 || !strings.Contains(out.String(), "Rewrapped 3 keys") {
		t.Fatalf("sayso keys rotate = %d %q %q, want 0 and 3 keys rewrapped", code, out.String(), errOut.String())
	}
	in = startInstance(t, dir)
	defer in.stop()
	if p, err := in.app.Store.GetPerson(context.Background(), "amara"); err != nil || p.Name != "Amara Okafor" {
		t.Errorf("Amara after rotating and retiring = %q, %v, want her name", p.Name, err)
	}
}
