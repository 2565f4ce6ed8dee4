package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseServe_Defaults(t *testing.T) {
	cfg, err := parseServe([]string{"--dev"}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parseServe(--dev) = %v, want nil", err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.DataDir != "./data" || !cfg.Dev || cfg.PublicURL != "http://127.0.0.1:8080" || cfg.DecideAge != 13 ||
		fmt.Sprint(cfg.StatutoryRoles) != "[social-worker]" {
		t.Errorf("parseServe(--dev) = %+v, want 127.0.0.1:8080, ./data, dev, http://127.0.0.1:8080, 13, [social-worker]", cfg)
	}
	cfg, err = parseServe([]string{"--dev"}, envOf(map[string]string{"SAYSO_STATUTORY_ROLES": "none"}), &bytes.Buffer{})
	if err != nil || cfg.StatutoryRoles == nil || len(cfg.StatutoryRoles) != 0 {
		t.Errorf("parseServe(SAYSO_STATUTORY_ROLES=none) = %v, %v; want no statutory roles", cfg.StatutoryRoles, err)
	}
}

func TestParseServe_FlagBeatsEnv(t *testing.T) {
	cfg, err := parseServe([]string{"--dev", "--addr", "127.0.0.1:9999"}, envOf(map[string]string{"SAYSO_ADDR": "127.0.0.1:7777", "SAYSO_DATA_DIR": "/tmp/x"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.DataDir != "/tmp/x" {
		t.Errorf("parseServe = addr %q dir %q, want the flag's addr and the variable's dir", cfg.Addr, cfg.DataDir)
	}
}

func TestParseServe_Refusals(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // every line must appear
	}{
		{"NoIdentityProvider", nil, nil, []string{"set SAYSO_OIDC_ISSUER", "--dev"}},
		{"BadAddr", []string{"--dev", "--addr", "8080"}, nil, []string{"--addr: \"8080\" is not host:port"}},
		{"BadDevFromEnv", nil, map[string]string{"SAYSO_DEV": "sure"}, []string{"SAYSO_DEV: \"sure\" is not true or false"}},
		{"UnknownStatutoryRole", []string{"--dev", "--statutory-roles", "social-worker,dpo"}, nil, []string{"--statutory-roles: \"dpo\" is not a role"}},
		{"SeveralAtOnce", []string{"--dev", "--session-idle", "soon", "--decide-age", "99"}, nil, []string{"--session-idle: \"soon\"", "--decide-age: \"99\""}},
		{"IssuerWithoutClient", nil, map[string]string{"SAYSO_OIDC_ISSUER": "https://login.example.org", "SAYSO_PUBLIC_URL": "https://sayso.example.org"}, []string{"SAYSO_OIDC_CLIENT_ID: required"}},
		{"PlainHTTPInProduction", nil, map[string]string{"SAYSO_OIDC_ISSUER": "https://login.example.org", "SAYSO_OIDC_CLIENT_ID": "x", "SAYSO_PUBLIC_URL": "http://sayso.example.org"}, []string{"must be https"}},
		{"DevWithIssuer", []string{"--dev"}, map[string]string{"SAYSO_OIDC_ISSUER": "https://login.example.org"}, []string{"development mode uses its own identity provider"}},
		{"PublicURLWithPath", []string{"--dev", "--public-url", "http://127.0.0.1:8080/app"}, nil, []string{"with no path"}},
		{"BadHolderClients", []string{"--dev", "--holder-clients", "school-mis"}, nil, []string{"is not client-id=organisation-id"}},
		{"DevOnAllInterfaces", []string{"--dev", "--addr", "0.0.0.0:8080"}, nil, []string{"only listens on a loopback address"}},
		{"DevOnAPublicAddress", []string{"--dev", "--addr", "192.0.2.10:8080"}, nil, []string{"only listens on a loopback address"}},
		{"StrayArgument", []string{"--dev", "now"}, nil, []string{"takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServe(tt.args, envOf(tt.env), &bytes.Buffer{})
			if err == nil {
				t.Fatalf("parseServe(%v, %v) = nil, want an error", tt.args, tt.env)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("parseServe(%v, %v) = %q, want it to contain %q", tt.args, tt.env, err, w)
				}
			}
		})
	}
}

func TestServeHelp_ListsEverySetting(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"serve", "--help"}, envOf(nil), &out, &errOut)
	if code != 0 {
		t.Fatalf("sayso serve --help exit = %d, want 0", code)
	}
	var c serveConfig
	for _, s := range c.settings() {
		if !strings.Contains(out.String(), "--"+s.flag) || !strings.Contains(out.String(), s.env) {
			t.Errorf("sayso serve --help does not list --%s and %s:\n%s", s.flag, s.env, out.String())
		}
	}
}

func TestRun_RefusesWithoutProvider(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"serve", "--data-dir", t.TempDir()}, envOf(nil), &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "SAYSO_OIDC_ISSUER") {
		t.Errorf("sayso serve without --dev or issuer = exit %d, %q; want non-zero naming SAYSO_OIDC_ISSUER", code, errOut.String())
	}
}

func TestParseServe_Store(t *testing.T) {
	cfg, err := parseServe([]string{"--dev"}, envOf(nil), &bytes.Buffer{})
	if err != nil || cfg.Store != "" || cfg.StoreDatabase != "sayso" || cfg.KMSURI != "" {
		t.Errorf("parseServe(--dev) = store %q database %q kms %q, %v; want the embedded store, database sayso, no KMS", cfg.Store, cfg.StoreDatabase, cfg.KMSURI, err)
	}
	uri := "mongodb://sayso:pw@db1.example.org,db2.example.org,db3.example.org/?replicaSet=rs0&w=majority"
	cfg, err = parseServe([]string{"--dev", "--store-database", "council"}, envOf(map[string]string{"SAYSO_STORE": uri}), &bytes.Buffer{})
	if err != nil || cfg.Store != uri || cfg.StoreDatabase != "council" {
		t.Errorf("parseServe with SAYSO_STORE = store %q database %q, %v; want the URI and council", cfg.Store, cfg.StoreDatabase, err)
	}
	if _, err := parseServe([]string{"--dev", "--store", "mongodb+srv://cluster0.example.net/", "--kms-uri", "gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k"}, envOf(nil), &bytes.Buffer{}); err != nil {
		t.Errorf("parseServe with a mongodb+srv store and a KMS URI = %v, want nil", err)
	}
}

func TestParseServe_StoreRefusals(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"WeakWriteConcern", []string{"--dev", "--store", "mongodb://sayso:s3cret@db1.example.org/?w=1"}, nil, []string{"--store: mongodb:", "w=1", "use w=majority"}},
		{"UnacknowledgedFromEnv", []string{"--dev"}, map[string]string{"SAYSO_STORE": "mongodb://h/?w=0&journal=false"}, []string{"SAYSO_STORE: mongodb:", "w=0", "journal=false"}},
		{"SecondaryReads", []string{"--dev", "--store", "mongodb://h/?readPreference=secondaryPreferred"}, nil, []string{"readPreference=secondaryPreferred"}},
		{"WrongScheme", []string{"--dev", "--store", "postgres://sayso:s3cret@h/sayso"}, nil, []string{`--store: mongodb: the store URI must start with "mongodb://" or "mongodb+srv://", not "postgres://"`}},
		{"APath", []string{"--dev", "--store", "./data/sayso.db"}, nil, []string{"leave it empty for the embedded store under --data-dir"}},
		{"NoHost", []string{"--dev", "--store", "mongodb://"}, nil, []string{"names no host"}},
		{"BadDatabase", []string{"--dev", "--store-database", "my.data"}, nil, []string{"--store-database: mongodb: database name \"my.data\""}},
		{"BadKMS", []string{"--dev", "--kms-uri", "vault://k"}, nil, []string{`--kms-uri: "vault://k" is not a KMS key URI`}},
		{"SeveralAtOnce", []string{"--dev", "--store", "mongodb://h/?w=1", "--kms-uri", "x"}, nil, []string{"--store:", "--kms-uri:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServe(tt.args, envOf(tt.env), &bytes.Buffer{})
			if err == nil {
				t.Fatalf("parseServe(%v, %v) = nil, want an error", tt.args, tt.env)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("parseServe(%v, %v) = %q, want it to contain %q", tt.args, tt.env, err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("parseServe repeated the URI's password: %q", err)
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tt.want) && tt.name == "SeveralAtOnce" {
				t.Errorf("parseServe said %d lines, want one per bad setting:\n%s", n, err)
			}
		})
	}
}
