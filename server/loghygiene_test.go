package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sayso/internal/apitest"
	"sayso/internal/wire"
)

// lockedBuffer is a log sink that is safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogs_NoPersonalDataNoForgedLines pushes names, tokens and control
// characters through every kind of input and reads the process log.
func TestLogs_NoPersonalDataNoForgedLines(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := wire.Build(context.Background(), logger, wire.Options{DataDir: t.TempDir(), Dev: true, PublicURL: base, SessionIdle: time.Hour, SessionAbsolute: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Server
	ts.Start()
	defer func() { ts.Close(); app.Close() }()

	const forged = `{"level":"ERROR","msg":"forged"}`
	secrets := []string{"Amara", "Okafor", "Willow Road", "07700 900123", "Zebedee-Marker", "s3cr3t-t0ken-value"}
	signIn := func(who string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := apitest.Client(t, jar)
		resp, err := c.Get(base + "/login?login_hint=" + who)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return c
	}
	amara, sam := signIn("amara"), signIn("sam")
	send := func(c *http.Client, method, path, body string, header map[string]string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	evil := "Zebedee-Marker\r\n" + forged + "\n\x1b[31m"
	send(amara, http.MethodPost, "/v1/young-people/amara/grants", `{"professionalId":"sam","category":"address","purpose":"home-visit"}`, nil)
	send(sam, http.MethodGet, "/v1/young-people/amara/records/address?purpose=home-visit", "", nil)
	send(sam, http.MethodPost, "/v1/young-people/amara/requests", `{"categories":["phone"],"purpose":"home-visit","reason":"`+strings.ReplaceAll(evil, "\n", `\n`)+` about Amara Okafor"}`, nil)
	send(sam, http.MethodGet, "/v1/young-people/"+url.PathEscape(evil)+"/records/address?purpose="+url.QueryEscape(evil), "", nil)
	send(amara, http.MethodPost, "/v1/young-people/amara/grants", `{"professionalId":"`+strings.ReplaceAll(evil, "\n", `\n`)+`"}`, nil)
	send(http.DefaultClient, http.MethodGet, "/login?login_hint="+url.QueryEscape(evil), "", nil)
	send(http.DefaultClient, http.MethodGet, "/auth/callback?state="+url.QueryEscape(evil)+"&error="+url.QueryEscape(evil), "", nil)
	send(http.DefaultClient, http.MethodGet, "/v1/me", "", map[string]string{"Cookie": "sayso_session=s3cr3t-t0ken-value", "X-Request-ID": "Zebedee-Marker " + forged, "User-Agent": "Zebedee-Marker " + forged})
	send(http.DefaultClient, http.MethodPost, "/v1/decisions", `{}`, map[string]string{"Authorization": "Bearer s3cr3t-t0ken-value"})

	out := logs.String()
	if out == "" {
		t.Fatal("no process log captured; the test would prove nothing")
	}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line %d is not one JSON object (a forged or broken line): %q", i, line)
			continue
		}
		if m["msg"] == "forged" {
			t.Errorf("log line %d was forged through input: %q", i, line)
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("process log contains %q", s)
		}
	}
}
