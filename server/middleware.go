package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
)

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the platform is broken; nothing safe remains
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// requestID gives every request a fresh id; an id sent by the client is not
// trusted, so it cannot forge or inject log lines.
func requestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := randomToken(12)
			c.Set("request_id", id)
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			return next(c)
		}
	}
}

// accessLog writes one line per request naming the route pattern, never the
// path itself, so ids of young people never reach the process log.
func accessLog(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			route := c.Path()
			if route == "" {
				route = "(no route)"
			}
			logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("request_id", c.Get("request_id").(string)),
				slog.String("method", c.Request().Method),
				slog.String("route", route),
				slog.Int("status", c.Response().Status),
				slog.Duration("took", time.Since(start)),
			)
			return nil
		}
	}
}

// securityHeaders applies to every response. Pages and API answers are
// personal, so nothing is cached; only /static/ may be.
func securityHeaders(tls bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if tls {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			if len(c.Request().URL.Path) < 8 || c.Request().URL.Path[:8] != "/static/" {
				h.Set("Cache-Control", "no-store")
			}
			return next(c)
		}
	}
}

// sameOrigin refuses a state change sent by another site. Browsers send
// Sec-Fetch-Site or Origin on every unsafe request; a client that sends
// neither is not a browser and carries no ambient cookies to abuse.
func sameOrigin(public *url.URL) echo.MiddlewareFunc {
	origin := public.Scheme + "://" + public.Host
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				return next(c)
			}
			if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
				return echo.NewHTTPError(http.StatusForbidden, "cross-site request refused")
			}
			// Under Referrer-Policy: no-referrer a browser sends "Origin: null"
			// with its own form posts; Sec-Fetch-Site, which no page can set,
			// still says where they came from.
			if o := r.Header.Get("Origin"); o != "" && o != origin && !(o == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin") {
				return echo.NewHTTPError(http.StatusForbidden, "cross-site request refused")
			}
			return next(c)
		}
	}
}

// validID reports whether s can be an id: 1 to 64 letters, digits, dots,
// dashes or underscores. Nothing else is looked up, logged or sealed.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// validParams answers 404 to any path whose ids could not be ids, before a
// handler looks anything up or writes an entry about them.
func validParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for i, name := range c.ParamNames() {
			if name == "*" || i >= len(c.ParamValues()) {
				continue
			}
			if !validID(c.ParamValues()[i]) {
				return echo.ErrNotFound
			}
		}
		return next(c)
	}
}
