// Package server is Sayso's HTTP layer: routes, sign-in, sessions, security
// middleware and problem+json errors. Handlers parse, call the consent
// service and render; the rules live in consent.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"sayso/consent"
	"sayso/frontend"
	"sayso/keys"
	"sayso/ledger"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	// PublicURL is where people reach Sayso, e.g. https://sayso.example.org.
	PublicURL       string
	OIDC            OIDCConfig
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// Limits are the rate limits; nil means none (development and tests).
	Limits *Limits
	// Holders maps each holder system's OAuth2 client id to its organisation.
	Holders map[string]string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the HTTP face of Sayso.
type Server struct {
	logger  *slog.Logger
	cfg     Config
	svc     *consent.Service
	store   consent.Store
	pages   *frontend.Pages
	rp      *relyingParty
	sealer  *sealer
	cookies cookieNames
	secure  bool
	now     func() time.Time
	jwks    any
	log     *ledger.Log
	limiter *limiter
	// verifies keeps each organisation's last log check (pages_dpo.go).
	verifies sync.Map
	tokens   tokenCache // holder systems' verified access tokens
	echo     *echo.Echo
}

// Mount adds a handler for everything under prefix, such as the development
// identity provider.
type Mount struct {
	Prefix  string
	Handler http.Handler
}

// New builds the server and its routes.
func New(logger *slog.Logger, cfg Config, svc *consent.Service, store consent.Store, keyring *keys.Keyring, log *ledger.Log, mounts ...Mount) (*Server, error) {
	public, err := url.Parse(cfg.PublicURL)
	if err != nil || (public.Scheme != "http" && public.Scheme != "https") || public.Host == "" {
		return nil, fmt.Errorf("server: public URL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	pages, err := frontend.New()
	if err != nil {
		return nil, err
	}
	sl, err := newSealer(keyring.Cookie)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	secure := public.Scheme == "https"
	s := &Server{
		logger: logger, cfg: cfg, svc: svc, store: store, pages: pages,
		rp:     newRelyingParty(cfg.OIDC, strings.TrimRight(cfg.PublicURL, "/")+"/auth/callback"),
		sealer: sl, cookies: newCookieNames(secure), secure: secure, now: now, jwks: keyring.JWKS(), log: log,
	}
	maxKeys := 1
	if cfg.Limits != nil {
		maxKeys = cfg.Limits.MaxKeys
	}
	s.limiter = newLimiter(maxKeys)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(requestID(), accessLog(logger), securityHeaders(secure), sameOrigin(public), validParams, s.session())
	s.echo = e
	s.routes(mounts)
	return s, nil
}

// routes is the one place every route is listed.
func (s *Server) routes(mounts []Mount) {
	e := s.echo
	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	e.GET("/openapi.yaml", s.handleOpenAPI)
	e.GET("/static/*", echo.WrapHandler(frontend.Static()))

	signIn := s.rateLimit("sign-in", func(l Limits) Limit { return l.SignIn })
	reads := s.rateLimit("reads", func(l Limits) Limit { return l.Reads })
	asks := s.rateLimit("requests", func(l Limits) Limit { return l.Requests })
	decisions := s.rateLimit("decisions", func(l Limits) Limit { return l.Decisions })

	e.GET("/login", s.handleLogin, signIn)
	e.GET("/auth/callback", s.handleCallback)
	e.POST("/logout", s.handleLogout)
	e.GET("/", s.handleHome)

	e.GET("/.well-known/jwks.json", s.handleJWKS)
	e.GET("/v1/catalogue", s.handleCatalogue)
	e.POST("/v1/decisions", s.handleDecision, s.holderAuth, decisions)
	e.GET("/v1/log/checkpoint", s.handleCheckpoint)
	e.GET("/v1/log/key", s.handleLogKey)
	e.GET("/v1/log/keys", s.handleLogKeys)
	e.GET("/v1/log/entries/:index/proof", s.handleProof)

	// The rest of /v1 needs a signed-in person. The check is on each route,
	// not on a group, so a wrong method still answers 405, not 404.
	in := requireSignIn
	yp := "/v1/young-people/:ypId"
	e.GET("/v1/me", s.handleMe, in)
	e.GET(yp+"/holdings", s.handleHoldings, in)
	e.GET(yp+"/grants", s.handleGrants, in)
	e.POST(yp+"/grants", s.handleCreateGrant, in)
	e.DELETE(yp+"/grants/:grantId", s.handleStopGrant, in)
	e.GET(yp+"/requests", s.handleRequests, in)
	e.POST(yp+"/requests", s.handleAsk, in, asks)
	e.POST(yp+"/requests/:requestId/decision", s.handleDecide, in)
	e.GET(yp+"/records/:category", s.handleReadRecords, in, reads)
	e.POST(yp+"/blocks", s.handleBlock, in)
	e.DELETE(yp+"/blocks/:professionalId", s.handleUnblock, in)
	e.POST(yp+"/competence", s.handleCompetence, in)
	e.GET(yp+"/disclosures", s.handleFeed, in)
	e.GET(yp+"/questions", s.handleQuestions, in)
	e.POST(yp+"/questions", s.handleAskWhy, in, asks)
	e.GET(yp+"/story", s.handleStory, in)
	e.POST(yp+"/story/:section", s.handleWriteStory, in)
	e.PUT(yp+"/grants/:grantId/story-version", s.handleStoryVersion, in)
	e.GET(yp+"/handovers", s.handleHandovers, in)
	e.POST(yp+"/handovers/:handoverId/answer", s.handleAnswerHandover, in)
	e.GET(yp+"/family", s.handleFamily, in)
	e.PUT(yp+"/family/:familyId", s.handleSetFamilyRule, in)
	e.GET(yp+"/family-actions", s.handleFamilyActions, in)
	e.POST(yp+"/statutory-access", s.handleOpenStatutory, in, asks)
	e.POST("/v1/handovers", s.handleStartHandover, in)
	org := "/v1/organisations/:orgId"
	e.GET(org+"/disclosures", s.handleOrgDisclosures, in)
	e.GET(org+"/questions", s.handleOrgQuestions, in)
	e.POST(org+"/questions/:questionId/answer", s.handleAnswerQuestion, in)
	e.GET(org+"/statutory", s.handleStatutoryReviews, in)
	e.POST(org+"/statutory/:accessId/delay", s.handleDelayTelling, in)
	e.POST(org+"/statutory/:accessId/reviewed", s.handleMarkReviewed, in)
	e.POST(org+"/memberships/:membershipId/end", s.handleEndMembership, in)

	// ---- Pages (issue 6): HTML for people, in pages*.go. Each route is
	// named "page:..."; every one needs a signed-in person, every POST an
	// anti-forgery token, and TestPages_Authz holds their authorisation
	// matrix. "/" above is the pages' home once someone is signed in.
	pg := s.pageRouter()
	// A young person's own pages, and a family member's for a child.
	pg.GET("/yp/:ypId", s.pageYPHome)
	pg.GET("/yp/:ypId/holders", s.pageYPHolders)
	pg.GET("/yp/:ypId/sharing", s.pageYPSharing)
	pg.GET("/yp/:ypId/sharing/:grantId/stop", s.pageYPStop)
	pg.POST("/yp/:ypId/sharing/:grantId/stop", s.pageYPStopPost)
	pg.GET("/yp/:ypId/sharing/:grantId/end", s.pageYPEndDate)
	pg.POST("/yp/:ypId/sharing/:grantId/end", s.pageYPEndDatePost)
	pg.GET("/yp/:ypId/share", s.pageYPShareStart)
	pg.GET("/yp/:ypId/share/check", s.pageYPShareCheck)
	pg.POST("/yp/:ypId/share/check", s.pageYPShareCheckPost)
	pg.GET("/yp/:ypId/share/:step", s.pageYPShareStep)
	pg.POST("/yp/:ypId/share/:step", s.pageYPShareStepPost)
	pg.GET("/yp/:ypId/shared/:grantId", s.pageYPShared)
	pg.GET("/yp/:ypId/requests", s.pageYPRequests)
	pg.GET("/yp/:ypId/requests/:requestId", s.pageYPRequest)
	pg.POST("/yp/:ypId/requests/:requestId", s.pageYPRequestPost)
	pg.GET("/yp/:ypId/requests/:requestId/check", s.pageYPRequestCheck)
	pg.POST("/yp/:ypId/requests/:requestId/check", s.pageYPRequestCheckPost)
	pg.GET("/yp/:ypId/requests/:requestId/answered", s.pageYPRequestAnswered)
	pg.GET("/yp/:ypId/looked", s.pageYPLooked)
	pg.GET("/yp/:ypId/looked/:index/concern", s.pageYPConcern)
	pg.POST("/yp/:ypId/looked/:index/concern", s.pageYPConcernPost)
	pg.GET("/yp/:ypId/family", s.pageYPFamily)
	pg.POST("/yp/:ypId/family/:familyId", s.pageYPFamilyRulePost)
	pg.GET("/yp/:ypId/story", s.pageYPStory)
	pg.GET("/yp/:ypId/story/:section", s.pageYPStoryEdit)
	pg.POST("/yp/:ypId/story/:section", s.pageYPStoryEditPost)
	pg.POST("/yp/:ypId/story/:section/version", s.pageYPStoryVersionPost)
	pg.GET("/yp/:ypId/handovers/:handoverId", s.pageYPHandover)
	pg.POST("/yp/:ypId/handovers/:handoverId", s.pageYPHandoverPost)
	// A professional's pages.
	pg.GET("/work", s.pageWorkHome)
	pg.GET("/work/requests", s.pageWorkRequests)
	pg.GET("/work/yp/:ypId", s.pageWorkYP)
	pg.GET("/work/yp/:ypId/ask", s.pageWorkAsk)
	pg.POST("/work/yp/:ypId/ask", s.pageWorkAskPost, asks)
	pg.GET("/work/yp/:ypId/read", s.pageWorkRead)
	pg.POST("/work/yp/:ypId/read", s.pageWorkReadPost, reads)
	pg.GET("/work/yp/:ypId/handover", s.pageWorkHandover)
	pg.POST("/work/yp/:ypId/handover", s.pageWorkHandoverPost)
	pg.GET("/work/yp/:ypId/statutory", s.pageWorkStatutory)
	pg.POST("/work/yp/:ypId/statutory", s.pageWorkStatutoryPost, asks)
	// A DPO's pages for their organisation.
	pg.GET("/dpo/:orgId/disclosures", s.pageDPODisclosures)
	pg.GET("/dpo/:orgId/concerns", s.pageDPOConcerns)
	pg.POST("/dpo/:orgId/concerns/:concernId/answer", s.pageDPOAnswer)
	pg.GET("/dpo/:orgId/statutory", s.pageDPOStatutory)
	pg.GET("/dpo/:orgId/statutory/:accessId", s.pageDPOAccess)
	pg.POST("/dpo/:orgId/statutory/:accessId/reviewed", s.pageDPOAccessReviewed)
	pg.POST("/dpo/:orgId/statutory/:accessId/delay", s.pageDPOAccessDelay)
	pg.GET("/dpo/:orgId/log", s.pageDPOLog)
	pg.POST("/dpo/:orgId/log/verify", s.pageDPOVerify)
	// ---- end of pages

	for _, m := range mounts {
		h := echo.WrapHandler(m.Handler)
		e.Any(m.Prefix+"/*", h)
		e.Any(m.Prefix, h)
	}
}

// ServeHTTP lets the server be used directly by net/http and httptest.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Routes lists every registered route, for tests that walk them all.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// handleError answers API paths with problem+json and pages with HTML. The
// cause of an unexpected error is logged, never sent.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemFor(err)
	if p.Status >= 500 {
		s.logger.Error("request failed", slog.String("request_id", fmt.Sprint(c.Get("request_id"))), slog.String("route", c.Path()), slog.String("error", err.Error()))
	}
	if wantsJSON(c) {
		_ = writeProblem(c, p)
		return
	}
	_ = s.pages.Render(c, p.Status, "error", s.page(c, p.Title, p.Title))
}

func wantsJSON(c echo.Context) bool {
	path := c.Request().URL.Path
	return strings.HasPrefix(path, "/v1/") || path == "/v1" || path == "/healthz" || path == "/readyz" ||
		strings.Contains(c.Request().Header.Get("Accept"), "application/json")
}

// page fills what every page needs.
func (s *Server) page(c echo.Context, title string, data any) frontend.Page {
	p := frontend.Page{Title: title, Data: data}
	if id := personID(c); id != "" {
		if person, err := s.store.GetPerson(c.Request().Context(), id); err == nil {
			p.SignedIn, p.Name = true, person.Name
		}
	}
	return p
}

func (s *Server) handleHome(c echo.Context) error {
	if personID(c) != "" {
		return s.pageHome(c) // pages.go
	}
	return s.pages.Render(c, http.StatusOK, "home", s.page(c, "Home", nil))
}

func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(c echo.Context) error {
	if err := s.svc.Ready(c.Request().Context()); err != nil {
		s.logger.Warn("not ready", slog.String("error", err.Error()))
		return writeProblem(c, httpProblem(http.StatusServiceUnavailable, "The store is not answering."))
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
