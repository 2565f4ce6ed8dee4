package server

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Limit is how fast one caller may do one kind of thing: Per is the rate
// (events per second) and Burst how many may come at once.
type Limit struct {
	Per   rate.Limit
	Burst int
}

// Limits are the rate limits per kind of action.
type Limits struct {
	SignIn    Limit // per client address
	Reads     Limit // per signed-in person
	Requests  Limit // per signed-in person, asking for access
	Decisions Limit // per holder system
	// TrustedProxies are the proxies whose X-Forwarded-For is believed;
	// from anyone else the header is ignored, so it cannot reset a limit.
	TrustedProxies []netip.Prefix
	// MaxKeys bounds the limiter's memory: the least recently seen callers
	// are forgotten first.
	MaxKeys int
}

// DefaultLimits suit one council: generous for people, firm for scripts.
func DefaultLimits() Limits {
	return Limits{
		SignIn:    Limit{Per: rate.Every(3 * time.Second), Burst: 20},
		Reads:     Limit{Per: 10, Burst: 60},
		Requests:  Limit{Per: rate.Every(30 * time.Second), Burst: 10},
		Decisions: Limit{Per: 500, Burst: 1000},
		MaxKeys:   100_000,
	}
}

// limiter holds one token bucket per (kind, caller), in a bounded LRU.
type limiter struct {
	mu      sync.Mutex
	max     int
	buckets map[string]*list.Element
	lru     *list.List
}

type bucket struct {
	key string
	lim *rate.Limiter
}

func newLimiter(max int) *limiter {
	if max < 1 {
		max = 1
	}
	return &limiter{max: max, buckets: map[string]*list.Element{}, lru: list.New()}
}

// allow takes a token for key, returning how long to wait if there is none.
func (l *limiter) allow(key string, lim Limit, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if el, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(el)
		b = el.Value.(*bucket)
	} else {
		b = &bucket{key: key, lim: rate.NewLimiter(lim.Per, lim.Burst)}
		l.buckets[key] = l.lru.PushFront(b)
		for l.lru.Len() > l.max {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.buckets, old.Value.(*bucket).key)
		}
	}
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// size reports how many callers are remembered.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// clientAddr is the caller's address: the direct peer, or the address a
// trusted proxy reports in X-Forwarded-For (its last untrusted hop).
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !inPrefixes(peer, trusted) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host
		}
		if !inPrefixes(a, trusted) {
			return a.String()
		}
	}
	return host
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// rateLimit limits one kind of action. key picks the caller: the signed-in
// person, the holder client, or the client address when neither is known.
// With no limits configured it lets everything through.
func (s *Server) rateLimit(kind string, pick func(Limits) Limit) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if s.cfg.Limits == nil {
			return next
		}
		lim := pick(*s.cfg.Limits)
		return func(c echo.Context) error {
			who := personID(c)
			if client, ok := c.Get("holder_client").(string); ok && client != "" {
				who = "holder:" + client
			}
			if who == "" {
				who = "addr:" + clientAddr(c.Request(), s.cfg.Limits.TrustedProxies)
			}
			ok, wait := s.limiter.allow(kind+"|"+who, lim, s.now())
			if !ok {
				secs := int(math.Ceil(wait.Seconds()))
				c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
				if wantsJSON(c) {
					return writeProblem(c, httpProblem(http.StatusTooManyRequests, "Too many requests; try again in a little while."))
				}
				return s.pages.Render(c, http.StatusTooManyRequests, "error", s.page(c, "Please wait a moment", "Please wait a moment, then try again"))
			}
			return next(c)
		}
	}
}
