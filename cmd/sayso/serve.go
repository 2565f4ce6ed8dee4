package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"sayso/internal/wire"
	"sayso/server"
)

func serveCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseServe(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sayso serve: cannot start:\n%v\n", err)
		return 2
	}
	logger := newLogger(stderr, cfg.LogLevel)
	if err := serve(ctx, logger, cfg, nil); err != nil {
		logger.Error("sayso stopped", slog.String("error", err.Error()))
		fmt.Fprintf(stderr, "sayso serve: %v\n", err)
		return 1
	}
	return 0
}

// storeKind names the store for the log, never quoting a URI (it may hold
// a password).
func storeKind(cfg serveConfig) string {
	if cfg.Store == "" {
		return "sqlite"
	}
	return "mongodb (database " + cfg.StoreDatabase + ")"
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// serve runs Sayso until ctx ends. ready, if not nil, receives the
// listening address once requests can be served.
func serve(ctx context.Context, logger *slog.Logger, cfg serveConfig, ready chan<- string) error {
	started := time.Now()
	if cfg.Dev {
		logger.Warn("development mode: built-in identity provider with demo people; never use this for real young people")
	}
	app, err := wire.Build(ctx, logger, wire.Options{
		DataDir: cfg.DataDir, Store: cfg.Store, StoreDatabase: cfg.StoreDatabase, KMSURI: cfg.KMSURI,
		Dev: cfg.Dev, PublicURL: cfg.PublicURL,
		OIDC:        server.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret},
		SessionIdle: cfg.SessionIdle, SessionAbsolute: cfg.SessionMax, DecideAge: cfg.DecideAge, StatutoryRoles: cfg.StatutoryRoles, Holders: cfg.HolderClients,
		Limits: cfg.limits(),
	})
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	hs := &http.Server{
		Handler:           app.Server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if cfg.Pprof != "" {
		stopProfiler, err := serveProfiler(logger, cfg.Pprof)
		if err != nil {
			return err
		}
		defer stopProfiler()
	}
	logger.Info("sayso is listening", slog.String("addr", ln.Addr().String()), slog.String("public_url", cfg.PublicURL),
		slog.Bool("dev", cfg.Dev), slog.String("store", storeKind(cfg)), slog.Duration("startup", time.Since(started)))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// serveProfiler serves net/http/pprof on a loopback address of its own,
// never on Sayso's listener, and returns how to stop it.
func serveProfiler(logger *slog.Logger, addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/heap", pprof.Handler("heap"))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	logger.Warn("profiler is listening", slog.String("addr", ln.Addr().String()))
	return func() { hs.Close() }, nil
}

// limits are the rate limits serve runs with: on outside development mode
// unless switched off, and off in development mode unless switched on.
func (c serveConfig) limits() *server.Limits {
	if c.RateLimits == "off" || (c.RateLimits == "" && c.Dev) {
		return nil
	}
	l := server.DefaultLimits()
	l.TrustedProxies = c.TrustedProxies
	return &l
}
