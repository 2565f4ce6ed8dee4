package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"sayso/consent"
	"sayso/internal/wire"
	"sayso/keys"
	"sayso/store/mongo"
)

// serveConfig is every setting of `sayso serve`. Each has a flag and a
// SAYSO_* variable; a flag wins over the variable.
type serveConfig struct {
	Addr             string
	DataDir          string
	Store            string // "" for the embedded store, else a MongoDB URI
	StoreDatabase    string
	KMSURI           string
	Dev              bool
	PublicURL        string
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	HolderClients    map[string]string
	RateLimits       string // "on", "off", or "" for the mode's default
	TrustedProxies   []netip.Prefix
	SessionIdle      time.Duration
	SessionMax       time.Duration
	DecideAge        int
	StatutoryRoles   []consent.Role
	LogLevel         string
	Pprof            string // loopback address for net/http/pprof; "" for none
}

type setting struct {
	flag, env, def, help string
	set                  func(string) error
}

func (c *serveConfig) settings() []setting {
	str := func(p *string) func(string) error { return func(v string) error { *p = v; return nil } }
	dur := func(p *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%q is not a positive duration such as 30m or 12h", v)
			}
			*p = d
			return nil
		}
	}
	return []setting{
		{"addr", "SAYSO_ADDR", "127.0.0.1:8080", "address to listen on (host:port)", func(v string) error {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return fmt.Errorf("%q is not host:port, such as 127.0.0.1:8080", v)
			}
			c.Addr = v
			return nil
		}},
		{"data-dir", "SAYSO_DATA_DIR", "./data", "folder for the embedded store and keys", func(v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.DataDir = v
			return nil
		}},
		{"store", "SAYSO_STORE", "", "where records live: empty for the embedded store under --data-dir, or a mongodb:// or mongodb+srv:// URI (prefer the variable: it may hold a password)", func(v string) error {
			if err := checkStore(v); err != nil {
				return err
			}
			c.Store = v
			return nil
		}},
		{"store-database", "SAYSO_STORE_DATABASE", wire.DefaultStoreDatabase, "MongoDB database, with a mongodb:// store", func(v string) error {
			if err := mongo.ValidateDatabaseName(v); err != nil {
				return err
			}
			c.StoreDatabase = v
			return nil
		}},
		{"kms-uri", "SAYSO_KMS_URI", "", "KMS key that encrypts the key-encryption keyset under --data-dir/keys (hcvault://, gcp-kms:// or aws-kms://)", func(v string) error {
			if v != "" && !keys.IsKMSURI(v) {
				return fmt.Errorf("%q is not a KMS key URI starting hcvault://, gcp-kms:// or aws-kms://", v)
			}
			c.KMSURI = v
			return nil
		}},
		{"dev", "SAYSO_DEV", "false", "development mode: built-in identity provider and demo data (never in production)", func(v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false (1 or 0)", v)
			}
			c.Dev = b
			return nil
		}},
		{"public-url", "SAYSO_PUBLIC_URL", "", "URL people use to reach Sayso (default in development: http://ADDR)", func(v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return fmt.Errorf("%q is not an http(s) URL with no path, such as https://sayso.example.org", v)
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
		{"oidc-issuer", "SAYSO_OIDC_ISSUER", "", "OpenID provider people sign in with (its issuer URL)", func(v string) error {
			if v == "" {
				return nil
			}
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("%q is not an issuer URL such as https://login.example.org", v)
			}
			c.OIDCIssuer = v
			return nil
		}},
		{"oidc-client-id", "SAYSO_OIDC_CLIENT_ID", "", "Sayso's client id at the provider", str(&c.OIDCClientID)},
		{"oidc-client-secret", "SAYSO_OIDC_CLIENT_SECRET", "", "Sayso's client secret (prefer the variable to the flag)", str(&c.OIDCClientSecret)},
		{"holder-clients", "SAYSO_HOLDER_CLIENTS", "", "holder systems that may ask for decisions, as client-id=organisation-id,...", func(v string) error {
			c.HolderClients = map[string]string{}
			if v == "" {
				return nil
			}
			for _, pair := range strings.Split(v, ",") {
				client, org, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok || client == "" || org == "" {
					return fmt.Errorf("%q is not client-id=organisation-id", pair)
				}
				c.HolderClients[client] = org
			}
			return nil
		}},
		{"rate-limits", "SAYSO_RATE_LIMITS", "", "on or off; on by default outside development mode", func(v string) error {
			switch v {
			case "", "on", "off":
				c.RateLimits = v
				return nil
			}
			return fmt.Errorf("%q is not on or off", v)
		}},
		{"trusted-proxies", "SAYSO_TRUSTED_PROXIES", "", "proxies whose X-Forwarded-For is believed, as CIDR ranges: 10.0.0.0/8,...", func(v string) error {
			c.TrustedProxies = nil
			if v == "" {
				return nil
			}
			for _, part := range strings.Split(v, ",") {
				p, err := netip.ParsePrefix(strings.TrimSpace(part))
				if err != nil {
					return fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8", part)
				}
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
			return nil
		}},
		{"session-idle", "SAYSO_SESSION_IDLE", "30m", "sign out after this long without activity", dur(&c.SessionIdle)},
		{"session-max", "SAYSO_SESSION_MAX", "12h", "sign out this long after signing in, whatever the activity", dur(&c.SessionMax)},
		{"decide-age", "SAYSO_DECIDE_AGE", "13", "age from which young people decide for themselves", func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 25 {
				return fmt.Errorf("%q is not a whole number from 0 to 25", v)
			}
			c.DecideAge = n
			return nil
		}},
		{"statutory-roles", "SAYSO_STATUTORY_ROLES", "social-worker", "roles that hold a statutory duty and may open statutory access (comma-separated; \"none\" for none)", func(v string) error {
			c.StatutoryRoles = []consent.Role{}
			if v == "none" {
				return nil
			}
			known := []consent.Role{consent.RoleSocialWorker, consent.RoleTeacher, consent.RoleYouthWorker, consent.RoleHealth}
			for _, r := range strings.Split(v, ",") {
				r = strings.TrimSpace(r)
				if !slices.Contains(known, consent.Role(r)) {
					return fmt.Errorf("%q is not a role: use social-worker, teacher, youth-worker or health-worker", r)
				}
				c.StatutoryRoles = append(c.StatutoryRoles, consent.Role(r))
			}
			return nil
		}},
		{"pprof", "SAYSO_PPROF", "", "serve Go's profiler (net/http/pprof) on this loopback host:port, for sayso bench --profile", func(v string) error {
			if v == "" {
				c.Pprof = ""
				return nil
			}
			host, port, err := net.SplitHostPort(v)
			if ip := net.ParseIP(host); err != nil || port == "" || ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%q is not a loopback host:port, such as 127.0.0.1:6060", v)
			}
			c.Pprof = v
			return nil
		}},
		{"log-level", "SAYSO_LOG_LEVEL", "info", "debug, info, warn or error", func(v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("%q is not debug, info, warn or error", v)
		}},
	}
}

// parseServe reads flags then environment, checks every value and returns
// one line per problem, so a bad start says everything wrong at once.
func parseServe(args []string, getenv func(string) string, out io.Writer) (serveConfig, error) {
	var c serveConfig
	settings := c.settings()
	fs := flag.NewFlagSet("sayso serve", flag.ContinueOnError)
	fs.SetOutput(out)
	given := map[string]*string{}
	for _, s := range settings {
		given[s.flag] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.help, s.env, s.def))
	}
	// --dev may be given bare.
	fs.Usage = func() {
		fmt.Fprintln(out, "Usage: sayso serve [flags]")
		fmt.Fprintln(out, "\nEvery flag can also be set with its SAYSO_* environment variable; a flag wins.")
		fmt.Fprintln(out)
		for _, s := range settings {
			def := s.def
			if def == "" {
				def = "none"
			}
			fmt.Fprintf(out, "  --%-20s %-26s %s (default: %s)\n", s.flag, s.env, s.help, def)
		}
	}
	if err := fs.Parse(normaliseBoolFlags(args)); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("sayso serve takes no arguments, got %q", fs.Args())
	}
	var problems []string
	for _, s := range settings {
		v, from := s.def, "default"
		if e := getenv(s.env); e != "" {
			v, from = e, s.env
		}
		if f := *given[s.flag]; f != "" {
			v, from = f, "--"+s.flag
		}
		if err := s.set(v); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", from, err))
		}
	}
	if len(problems) == 0 {
		problems = c.checkTogether()
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "\n"))
	}
	return c, nil
}

// checkTogether checks settings that depend on one another.
func (c *serveConfig) checkTogether() []string {
	var p []string
	if c.Dev {
		if c.PublicURL == "" {
			c.PublicURL = "http://" + c.Addr
		}
		if c.OIDCIssuer != "" {
			p = append(p, "SAYSO_OIDC_ISSUER: development mode uses its own identity provider; unset the issuer or leave out --dev")
		}
		// Anyone who can reach a development Sayso can sign in as anyone.
		if host, _, err := net.SplitHostPort(c.Addr); err == nil {
			if ip, err := netip.ParseAddr(host); (err != nil && host != "localhost") || (err == nil && !ip.IsLoopback()) {
				p = append(p, "--addr: development mode lets anyone sign in as anyone, so it only listens on a loopback address such as 127.0.0.1:8080")
			}
		}
		return p
	}
	if c.OIDCIssuer == "" {
		p = append(p, "no identity provider: set SAYSO_OIDC_ISSUER (with SAYSO_OIDC_CLIENT_ID and SAYSO_OIDC_CLIENT_SECRET) to your organisation's OpenID provider, or run with --dev to try Sayso with demo people")
	}
	if c.OIDCIssuer != "" && c.OIDCClientID == "" {
		p = append(p, "SAYSO_OIDC_CLIENT_ID: required with SAYSO_OIDC_ISSUER")
	}
	if c.PublicURL == "" {
		p = append(p, "SAYSO_PUBLIC_URL: required outside development mode, such as https://sayso.example.org")
	} else if !strings.HasPrefix(c.PublicURL, "https://") {
		p = append(p, "SAYSO_PUBLIC_URL: must be https outside development mode, so session cookies stay secure")
	}
	return p
}

// checkStore checks a --store value without connecting: empty, or a
// MongoDB URI that asks for no weaker durability than Sayso needs. The
// message never repeats the value, which may hold a password.
func checkStore(v string) error {
	if v == "" {
		return nil
	}
	err := mongo.ValidateURI(v)
	if err != nil && !strings.Contains(v, "://") {
		return fmt.Errorf("%w (leave it empty for the embedded store under --data-dir)", err)
	}
	return err
}

// normaliseBoolFlags turns a bare --dev into --dev=true, so the flag reads
// naturally while every setting stays a string that is checked in one place.
func normaliseBoolFlags(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if a == "--dev" || a == "-dev" {
			a = "--dev=true"
		}
		out = append(out, a)
	}
	return out
}

// storeFlags say where the store and keys are, for the commands beside
// serve (verify-log, keys, migrate-store). The flags' defaults come from
// the same SAYSO_* variables as serve's.
type storeFlags struct {
	getenv   func(string) string
	dataDir  *string
	store    *string
	database *string
}

func addStoreFlags(fs *flag.FlagSet, getenv func(string) string) *storeFlags {
	or := func(env, def string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	return &storeFlags{
		getenv:  getenv,
		dataDir: fs.String("data-dir", or("SAYSO_DATA_DIR", "./data"), "folder holding keys/, and sayso.db with the embedded store (env SAYSO_DATA_DIR)"),
		// No default shown: SAYSO_STORE may hold a password.
		store:    fs.String("store", "", "empty for the embedded store under --data-dir, or a mongodb:// or mongodb+srv:// URI (env SAYSO_STORE)"),
		database: fs.String("store-database", or("SAYSO_STORE_DATABASE", wire.DefaultStoreDatabase), "MongoDB database, with a mongodb:// store (env SAYSO_STORE_DATABASE)"),
	}
}

// check resolves the store from the environment if no flag gave it, and
// returns one line per bad value.
func (f *storeFlags) check() error {
	from := "--store"
	if *f.store == "" {
		*f.store, from = f.getenv("SAYSO_STORE"), "SAYSO_STORE"
	}
	var problems []string
	if err := checkStore(*f.store); err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", from, err))
	}
	if *f.store != "" {
		if err := mongo.ValidateDatabaseName(*f.database); err != nil {
			problems = append(problems, fmt.Sprintf("--store-database: %v", err))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// embedded reports whether the store is the SQLite file under --data-dir.
func (f *storeFlags) embedded() bool { return *f.store == "" }

// open opens the store (after check).
func (f *storeFlags) open(ctx context.Context) (consent.Store, error) {
	return wire.OpenStore(ctx, newLogger(io.Discard, "error"), *f.dataDir, *f.store, *f.database)
}
