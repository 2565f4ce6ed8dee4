package server

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiter_MemoryBounded(t *testing.T) {
	l := newLimiter(100)
	now := time.Now()
	for i := range 10_000 {
		l.allow(fmt.Sprintf("reads|addr:10.0.%d.%d", i/256, i%256), Limit{Per: 1, Burst: 1}, now)
		if l.size() > 100 {
			t.Fatalf("limiter remembers %d callers after %d distinct ones, want at most 100", l.size(), i+1)
		}
	}
}

func TestLimiter_RetryAfter(t *testing.T) {
	l := newLimiter(10)
	now := time.Now()
	lim := Limit{Per: rate.Every(10 * time.Second), Burst: 2}
	for i := range 2 {
		if ok, _ := l.allow("k", lim, now); !ok {
			t.Fatalf("allow(%d within burst) = false, want true", i)
		}
	}
	ok, wait := l.allow("k", lim, now)
	if ok || wait <= 9*time.Second || wait > 10*time.Second {
		t.Errorf("allow(over burst) = %v, wait %v; want false and about 10s", ok, wait)
	}
	if ok, _ := l.allow("k", lim, now.Add(11*time.Second)); !ok {
		t.Errorf("allow(after waiting) = false, want true")
	}
}

func TestClientAddr_ForwardedForTrustedOnly(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"NoProxyIgnoresHeader", "203.0.113.7:5555", "198.51.100.1", nil, "203.0.113.7"},
		{"UntrustedPeerIgnoresHeader", "203.0.113.7:5555", "198.51.100.1", proxies, "203.0.113.7"},
		{"TrustedProxyGivesClient", "10.1.2.3:5555", "198.51.100.1", proxies, "198.51.100.1"},
		{"ClientCannotPrependAForgery", "10.1.2.3:5555", "1.2.3.4, 198.51.100.1", proxies, "198.51.100.1"},
		{"ChainOfTrustedProxies", "10.1.2.3:5555", "198.51.100.1, 10.9.9.9", proxies, "198.51.100.1"},
		{"GarbageHeader", "10.1.2.3:5555", "not-an-ip", proxies, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("X-Forwarded-For", tt.xff)
			if got := clientAddr(r, tt.trusted); got != tt.want {
				t.Errorf("clientAddr(%s, XFF %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}
