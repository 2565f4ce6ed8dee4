// Package testenv starts a whole Sayso for tests: the embedded store in a
// temporary folder, the development identity provider and the HTTP server on
// a real loopback port, with a clock the test controls.
package testenv

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"sayso/internal/apitest"
	"sayso/internal/wire"
)

// Clock is a settable clock that starts at the real time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Env is one running Sayso.
type Env struct {
	URL     string
	DataDir string
	App     *wire.Sayso
	Clock   *Clock
}

// New starts Sayso in development mode. Options may change the settings.
func New(t testing.TB, options ...func(*wire.Options)) *Env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	clock := &Clock{t: time.Now()}
	opts := wire.Options{
		DataDir: t.TempDir(), Dev: true, PublicURL: url,
		SessionIdle: 30 * time.Minute, SessionAbsolute: 12 * time.Hour,
		Now: clock.Now,
	}
	for _, o := range options {
		o(&opts)
	}
	app, err := wire.Build(context.Background(), Logger(t), opts)
	if err != nil {
		ts.Close()
		t.Fatalf("wire.Build() = %v, want nil", err)
	}
	ts.Config.Handler = app.Server
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		app.Close()
	})
	return &Env{URL: url, DataDir: opts.DataDir, App: app, Clock: clock}
}

// Logger is a JSON logger that writes into the test's log. A fuzz target
// may not log through its *testing.F, so fuzzing discards the log.
func Logger(t testing.TB) *slog.Logger {
	if _, fuzzing := t.(*testing.F); fuzzing {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Client returns a client with its own cookie jar whose API answers are
// checked against openapi.yaml.
func (e *Env) Client(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return apitest.Client(t, jar)
}

// SignIn signs who in through the development provider, following every
// redirect as a browser would, and returns their client.
func (e *Env) SignIn(t testing.TB, who string) *http.Client {
	t.Helper()
	c := e.Client(t)
	resp, err := c.Get(e.URL + "/login?login_hint=" + who)
	if err != nil {
		t.Fatalf("sign in as %s: %v", who, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("sign in as %s: ended at %s with %d, want / with 200; body: %.300s", who, resp.Request.URL, resp.StatusCode, body)
	}
	return c
}
