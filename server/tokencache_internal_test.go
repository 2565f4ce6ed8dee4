package server

import (
	"fmt"
	"testing"
	"time"
)

func TestTokenCache_UntilExpiryAtMostTTL(t *testing.T) {
	now := time.Now()
	var c tokenCache
	if _, ok := c.get("tok", now); ok {
		t.Fatal("empty cache answered")
	}
	c.put("short", "client-a", now.Add(time.Minute), now)
	c.put("long", "client-b", now.Add(time.Hour), now)
	if id, ok := c.get("short", now.Add(59*time.Second)); !ok || id != "client-a" {
		t.Errorf("get(short) before expiry = %q, %v, want client-a, true", id, ok)
	}
	if _, ok := c.get("short", now.Add(time.Minute)); ok {
		t.Error("get(short) at its expiry answered, want a miss (the token must be verified again, and fail)")
	}
	if _, ok := c.get("long", now.Add(tokenCacheTTL)); ok {
		t.Error("get(long) after the cache's TTL answered, want a miss")
	}
	if _, ok := c.get("other", now); ok {
		t.Error("get of a token never put answered")
	}
}

func TestTokenCache_MemoryBounded(t *testing.T) {
	now := time.Now()
	var c tokenCache
	for i := range 10 * tokenCacheSize {
		c.put(fmt.Sprint("tok-", i), "client", now.Add(time.Hour), now)
		if len(c.m) > tokenCacheSize {
			t.Fatalf("cache holds %d tokens after %d, want at most %d", len(c.m), i+1, tokenCacheSize)
		}
	}
}
