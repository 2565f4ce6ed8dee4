package server

import "testing"

func TestSafeReturn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/yp/amara/sharing", "/yp/amara/sharing"},
		{"/work?x=1", "/work?x=1"},
		{"", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example/phish", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"evil.example", "/"},
	}
	for _, tt := range tests {
		if got := safeReturn(tt.in); got != tt.want {
			t.Errorf("safeReturn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
