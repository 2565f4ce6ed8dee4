package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is a small in-memory op.Storage. It also implements
// op.ClientCredentialsStorage (which switches on the client_credentials grant)
// and op.CanSetUserinfoFromRequest (which fills the ID token's claims).
type storage struct {
	logger  *slog.Logger
	now     func() time.Time
	people  []Person // in configured order, for the login page
	byID    map[string]Person
	clients map[string]*opClient
	key     *rsa.PrivateKey
	keyID   string

	mu       sync.Mutex
	requests map[string]*authRequest // by auth request id
	codes    map[string]string       // authorisation code -> auth request id
	tokens   map[string]*accessToken // by token id (jti)
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.ClientCredentialsStorage  = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

var (
	errUnknownClient      = errors.New("unknown client or wrong secret")
	errUnknownAuthRequest = errors.New("sign-in request is unknown, finished or expired")
	errUnknownToken       = errors.New("token is unknown, revoked or expired")
)

func newStorage(logger *slog.Logger, cfg Config, now func() time.Time, loginURL string) (*storage, error) {
	s := &storage{
		logger:   logger,
		now:      now,
		byID:     make(map[string]Person, len(cfg.People)),
		clients:  make(map[string]*opClient, len(cfg.Clients)),
		key:      cfg.SigningKey,
		requests: make(map[string]*authRequest),
		codes:    make(map[string]string),
		tokens:   make(map[string]*accessToken),
	}
	for _, person := range cfg.People {
		if person.Subject == "" {
			return nil, errors.New("devidp: a Person has an empty Subject")
		}
		if _, dup := s.byID[person.Subject]; dup {
			return nil, fmt.Errorf("devidp: Person subject %q is listed twice", person.Subject)
		}
		if person.Name == "" {
			person.Name = person.Subject
		}
		s.byID[person.Subject] = person
		s.people = append(s.people, person)
	}
	for _, c := range cfg.Clients {
		if err := validateClient(c); err != nil {
			return nil, err
		}
		if _, dup := s.clients[c.ID]; dup {
			return nil, fmt.Errorf("devidp: Client %q is listed twice", c.ID)
		}
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
		s.clients[c.ID] = &opClient{c: c, loginURL: loginURL}
	}
	thumb, err := (&jose.JSONWebKey{Key: &cfg.SigningKey.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("devidp: key id of Config.SigningKey: %w", err)
	}
	s.keyID = base64.RawURLEncoding.EncodeToString(thumb)
	return s, nil
}

func validateClient(c Client) error {
	if c.ID == "" {
		return errors.New("devidp: a Client has an empty ID")
	}
	for _, uri := range slices.Concat(c.RedirectURIs, c.PostLogoutRedirectURIs) {
		u, err := url.Parse(uri)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return fmt.Errorf("devidp: Client %q: redirect URI %q must be an absolute http(s) URL without a fragment", c.ID, uri)
		}
	}
	if c.ClientCredentials {
		if c.Secret == "" {
			return fmt.Errorf("devidp: machine Client %q needs a Secret", c.ID)
		}
		if len(c.RedirectURIs) > 0 || len(c.PostLogoutRedirectURIs) > 0 {
			return fmt.Errorf("devidp: machine Client %q must not have redirect URIs", c.ID)
		}
		return nil
	}
	if len(c.RedirectURIs) == 0 {
		return fmt.Errorf("devidp: web Client %q needs at least one redirect URI", c.ID)
	}
	return nil
}

// newID returns an unguessable identifier (128 random bits).
func newID() string { return rand.Text() }

// authRequest is one authorisation request, from /authorize to code exchange.
// Values handed to the op are copies, so the op never sees later changes.
type authRequest struct {
	id            string
	clientID      string
	redirectURI   string
	scopes        []string
	state         string
	nonce         string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	hint          string // login_hint, or the subject of a valid id_token_hint
	promptNone    bool
	createdAt     time.Time

	subject      string // set when someone signs in
	authTime     time.Time
	done         bool
	code         string // set when the code is issued
	codeIssuedAt time.Time
}

var _ op.AuthRequest = (*authRequest)(nil)

func (r *authRequest) GetID() string                         { return r.id }
func (r *authRequest) GetACR() string                        { return "" }
func (r *authRequest) GetAMR() []string                      { return nil }
func (r *authRequest) GetAudience() []string                 { return []string{r.clientID} }
func (r *authRequest) GetAuthTime() time.Time                { return r.authTime }
func (r *authRequest) GetClientID() string                   { return r.clientID }
func (r *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return r.codeChallenge }
func (r *authRequest) GetNonce() string                      { return r.nonce }
func (r *authRequest) GetRedirectURI() string                { return r.redirectURI }
func (r *authRequest) GetResponseType() oidc.ResponseType    { return r.responseType }
func (r *authRequest) GetResponseMode() oidc.ResponseMode    { return r.responseMode }
func (r *authRequest) GetScopes() []string                   { return r.scopes }
func (r *authRequest) GetState() string                      { return r.state }
func (r *authRequest) GetSubject() string                    { return r.subject }
func (r *authRequest) Done() bool                            { return r.done }

func (r *authRequest) expired(now time.Time) bool {
	if r.code != "" {
		return now.After(r.codeIssuedAt.Add(authCodeTTL))
	}
	return now.After(r.createdAt.Add(authRequestTTL))
}

func (r *authRequest) copy() *authRequest {
	c := *r
	return &c
}

// clientCredentialsRequest is the token request of the client_credentials grant.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (r *clientCredentialsRequest) GetSubject() string    { return r.clientID }
func (r *clientCredentialsRequest) GetAudience() []string { return []string{r.clientID} }
func (r *clientCredentialsRequest) GetScopes() []string   { return r.scopes }

type accessToken struct {
	id       string
	subject  string
	clientID string
	audience []string
	scopes   []string
	expires  time.Time
}

// sweepLocked drops expired state. s.mu must be held.
func (s *storage) sweepLocked(now time.Time) {
	for id, r := range s.requests {
		if r.expired(now) {
			delete(s.requests, id)
			if r.code != "" {
				delete(s.codes, r.code)
			}
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// liveRequestLocked returns the stored auth request, or nil if it is unknown
// or expired. s.mu must be held.
func (s *storage) liveRequestLocked(id string) *authRequest {
	r, ok := s.requests[id]
	if !ok || r.expired(s.now()) {
		return nil
	}
	return r
}

// CreateAuthRequest stores a validated authorisation request. PKCE with S256
// is required here, so a request without it is refused before any login.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge is required: use PKCE with code_challenge_method=S256")
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	hint := req.LoginHint
	if hint == "" {
		hint = userID // subject of a valid id_token_hint
	}
	now := s.now()
	r := &authRequest{
		id:           newID(),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		scopes:       slices.Clone(req.Scopes),
		state:        req.State,
		nonce:        req.Nonce,
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		codeChallenge: &oidc.CodeChallenge{
			Challenge: req.CodeChallenge,
			Method:    req.CodeChallengeMethod,
		},
		hint:       hint,
		promptNone: slices.Contains(req.Prompt, oidc.PromptNone),
		createdAt:  now,
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if len(s.requests) >= maxPending {
		return nil, oidc.ErrServerError().WithDescription("too many pending sign-in requests")
	}
	s.requests[r.id] = r
	s.logger.Debug("devidp: sign-in request created", slog.String("client_id", r.clientID))
	return r.copy(), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveRequestLocked(id)
	if r == nil {
		return nil, errUnknownAuthRequest
	}
	return r.copy(), nil
}

// pendingAuthRequest returns a copy of a live auth request nobody has signed
// in to yet.
func (s *storage) pendingAuthRequest(id string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveRequestLocked(id)
	if r == nil || r.done {
		return nil, errUnknownAuthRequest
	}
	return r.copy(), nil
}

// completeAuthRequest records that subject signed in to the auth request.
func (s *storage) completeAuthRequest(id, subject string) error {
	if _, ok := s.byID[subject]; !ok {
		return fmt.Errorf("unknown person")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveRequestLocked(id)
	if r == nil || r.done {
		return errUnknownAuthRequest
	}
	r.subject = subject
	r.authTime = s.now()
	r.done = true
	s.logger.Debug("devidp: signed in", slog.String("subject", subject), slog.String("client_id", r.clientID))
	return nil
}

// SaveAuthCode binds the code to a signed-in auth request. Each auth request
// gets at most one code.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.liveRequestLocked(id)
	if r == nil || !r.done {
		return oidc.ErrInvalidRequest().WithDescription("the sign-in request is unknown, unfinished or expired")
	}
	if r.code != "" {
		return oidc.ErrInvalidRequest().WithDescription("a code was already issued for this sign-in request")
	}
	r.code = code
	r.codeIssuedAt = s.now()
	s.codes[code] = id
	return nil
}

// AuthRequestByCode looks up and consumes the code: whatever happens after,
// the code cannot be used again.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, errors.New("code is unknown, used or expired")
	}
	delete(s.codes, code)
	r := s.requests[id]
	delete(s.requests, id)
	if r == nil || r.expired(s.now()) {
		return nil, errors.New("code is unknown, used or expired")
	}
	return r.copy(), nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		delete(s.requests, id)
		if r.code != "" {
			delete(s.codes, r.code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	var clientID string
	switch req := req.(type) {
	case *authRequest:
		clientID = req.clientID
	case *clientCredentialsRequest:
		clientID = req.clientID
	default:
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	now := s.now()
	t := &accessToken{
		id:       newID(),
		subject:  req.GetSubject(),
		clientID: clientID,
		audience: slices.Clone(req.GetAudience()),
		scopes:   slices.Clone(req.GetScopes()),
		expires:  now.Add(accessTokenTTL),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if len(s.tokens) >= maxPending {
		return "", time.Time{}, oidc.ErrServerError().WithDescription("too many live access tokens")
	}
	s.tokens[t.id] = t
	s.logger.Debug("devidp: access token issued", slog.String("subject", t.subject), slog.String("client_id", clientID))
	return t.id, t.expires, nil
}

// CreateAccessAndRefreshTokens is never called: no client has the
// refresh_token grant.
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not supported")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession revokes the access tokens of userID for clientID. There is
// no browser session to end: every sign-in shows the picker again.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	s.logger.Debug("devidp: signed out", slog.String("subject", userID), slog.String("client_id", clientID))
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok {
		return nil // already not valid: that is what revocation wants
	}
	if t.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	delete(s.tokens, tokenID)
	return nil
}

// signingKey implements op.SigningKey.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

// publicKey implements op.Key.
type publicKey struct {
	id  string
	key *rsa.PublicKey
}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{id: s.keyID, key: s.key}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{id: s.keyID, key: &s.key.PublicKey}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, errors.New("unknown client")
	}
	return c, nil
}

// checkSecret returns the client if it exists, has a secret and secret matches.
func (s *storage) checkSecret(clientID, secret string) (*opClient, error) {
	c, ok := s.clients[clientID]
	if !ok || c.c.Secret == "" {
		return nil, errUnknownClient
	}
	want := sha256.Sum256([]byte(c.c.Secret))
	got := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return nil, errUnknownClient
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, clientSecret string) error {
	_, err := s.checkSecret(clientID, clientSecret)
	return err
}

// ClientCredentials authenticates a client for the client_credentials grant.
// A web client with the right secret is returned too: the op then refuses it
// with unauthorized_client because its grant types lack client_credentials.
func (s *storage) ClientCredentials(_ context.Context, clientID, clientSecret string) (op.Client, error) {
	return s.checkSecret(clientID, clientSecret)
}

func (s *storage) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	return &clientCredentialsRequest{clientID: clientID, scopes: slices.Clone(scopes)}, nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims: sub, name and email.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	person, ok := s.byID[req.GetSubject()]
	if !ok {
		return errors.New("unknown person")
	}
	setPerson(info, person)
	return nil
}

func setPerson(info *oidc.UserInfo, person Person) {
	info.Subject = person.Subject
	info.Name = person.Name
	if person.Email != "" {
		info.Email = person.Email
		info.EmailVerified = true
	}
}

func (s *storage) liveToken(tokenID string) (*accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || s.now().After(t.expires) {
		return nil, errUnknownToken
	}
	return t, nil
}

// SetUserinfoFromToken answers the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.liveToken(tokenID)
	if err != nil {
		return err
	}
	person, ok := s.byID[t.subject]
	if !ok || t.subject != subject {
		return errUnknownToken
	}
	setPerson(info, person)
	return nil
}

// SetIntrospectionFromToken answers the introspection endpoint for a client
// the token was issued to.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.liveToken(tokenID)
	if err != nil {
		return err
	}
	if t.subject != subject || (t.clientID != clientID && !slices.Contains(t.audience, clientID)) {
		return errUnknownToken
	}
	resp.Subject = t.subject
	resp.ClientID = t.clientID
	resp.Scope = t.scopes
	resp.Audience = t.audience
	resp.Expiration = oidc.FromTime(t.expires)
	if person, ok := s.byID[t.subject]; ok {
		resp.Name = person.Name
		resp.Email = person.Email
	}
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt and the JWT profile grant are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s *storage) Health(context.Context) error { return nil }
