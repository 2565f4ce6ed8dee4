package main

import (
	"bytes"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseServe_Defaults(t *testing.T) {
	cfg, err := parseServe([]string{"--dev"}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parseServe(--dev) = %v, want nil", err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.DataDir != "./data" || !cfg.Dev || cfg.PublicURL != "http://127.0.0.1:8080" || cfg.DecideAge != 13 {
		t.Errorf("parseServe(--dev) = %+v, want 127.0.0.1:8080, ./data, dev, http://127.0.0.1:8080, 13", cfg)
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
		{"SeveralAtOnce", []string{"--dev", "--session-idle", "soon", "--decide-age", "99"}, nil, []string{"--session-idle: \"soon\"", "--decide-age: \"99\""}},
		{"IssuerWithoutClient", nil, map[string]string{"SAYSO_OIDC_ISSUER": "https://login.example.org", "SAYSO_PUBLIC_URL": "https://sayso.example.org"}, []string{"SAYSO_OIDC_CLIENT_ID: required"}},
		{"PlainHTTPInProduction", nil, map[string]string{"SAYSO_OIDC_ISSUER": "https://login.example.org", "SAYSO_OIDC_CLIENT_ID": "x", "SAYSO_PUBLIC_URL": "http://sayso.example.org"}, []string{"must be https"}},
		{"DevWithIssuer", []string{"--dev"}, map[string]string{"SAYSO_OIDC_ISSUER": "https://login.example.org"}, []string{"development mode uses its own identity provider"}},
		{"PublicURLWithPath", []string{"--dev", "--public-url", "http://127.0.0.1:8080/app"}, nil, []string{"with no path"}},
		{"BadHolderClients", []string{"--dev", "--holder-clients", "school-mis"}, nil, []string{"is not client-id=organisation-id"}},
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
