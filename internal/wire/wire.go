// Package wire builds a whole Sayso from its settings: the store, keys,
// service, development provider and HTTP server. The sayso command and the
// tests build Sayso the same way through it.
package wire

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sayso/consent"
	"sayso/demo"
	"sayso/devidp"
	"sayso/keys"
	"sayso/ledger"
	"sayso/policy"
	"sayso/server"
	"sayso/store/mongo"
	"sayso/store/sqlite"
)

// Options are the settings that shape a Sayso instance.
type Options struct {
	// DataDir holds the keys (keys/) and, when Store is empty, the
	// embedded store (sayso.db).
	DataDir string
	// Store is "" for the embedded SQLite store under DataDir, or a
	// mongodb:// or mongodb+srv:// URI; StoreDatabase names the MongoDB
	// database ("" for "sayso"). Keys stay under DataDir either way.
	Store           string
	StoreDatabase   string
	Dev             bool
	PublicURL       string
	OIDC            server.OIDCConfig // ignored in development mode
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	DecideAge       int
	// StatutoryRoles replaces the default roles with a statutory duty when not nil.
	StatutoryRoles []consent.Role
	// KMSURI names a KMS key that encrypts the KEK keyset file; empty keeps
	// the keyset as a 0600 cleartext file (development and small charities).
	KMSURI string
	// Limits are the rate limits; nil means none.
	Limits *server.Limits
	// Holders maps holder systems' client ids to their organisations.
	Holders map[string]string
	Now     func() time.Time // nil: time.Now
	// WrapStore, if not nil, wraps the store right after it is opened,
	// before anything else sees it. It is for fault-injection tests; leave
	// it nil otherwise.
	WrapStore func(consent.Store) consent.Store
}

// policyCacheSize bounds how many young people's policies one instance keeps
// parsed. Each cached Casbin enforcer holds about 16 KB, so 5,000 of them
// bound the cache near 80 MB; at 20,000 the cache alone could reach 320 MB
// and sayso bench measured 420-540 MB RSS under load with 10,000 active
// young people (275-310 MB at 5,000, for 10-25% more CPU per request there,
// where half the decisions rebuild an enforcer). docs/PERFORMANCE.md has the
// figures.
const policyCacheSize = 5000

// Unwrapped data-encryption keys are kept briefly, so an erasure made on
// another instance takes hold within the TTL.
const (
	dekCacheSize = 20000
	dekCacheTTL  = time.Minute
)

// LogBatching is how the disclosure log groups concurrent disclosures into
// durable commits. The load harness (sayso bench) measures its floor with
// the same settings, so the two cannot drift apart.
func LogBatching() ledger.Config { return ledger.Config{MaxBatch: 256, CheckpointEvery: time.Minute} }

// Sayso is one built instance.
type Sayso struct {
	Server  *server.Server
	Store   consent.Store // sealing wrapper over Raw
	Raw     consent.Store // what is on disk
	Keys    *keys.Keyring
	KEK     *keys.KEK
	Vault   *keys.Vault
	Service *consent.Service
	Log     *ledger.Log
	stop    context.CancelFunc
}

// Close stops the log writer, then releases the store.
func (s *Sayso) Close() error {
	s.stop()
	s.Log.Wait()
	return s.Store.Close()
}

// logOrigin names a new log after the host people reach Sayso at.
func logOrigin(publicURL string) string {
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		return u.Host + "/disclosures"
	}
	return "sayso/disclosures"
}

// Build opens everything under opts.DataDir and returns a ready server.
func Build(ctx context.Context, logger *slog.Logger, opts Options) (*Sayso, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	raw, err := OpenStore(ctx, logger, opts.DataDir, opts.Store, opts.StoreDatabase)
	if err != nil {
		return nil, err
	}
	if opts.WrapStore != nil {
		raw = opts.WrapStore(raw)
	}
	fail := func(err error) (*Sayso, error) {
		raw.Close()
		return nil, err
	}
	if err := keysBelongHere(ctx, raw, opts.DataDir); err != nil {
		return fail(err)
	}
	keyring, err := keys.Open(filepath.Join(opts.DataDir, "keys"))
	if err != nil {
		return fail(err)
	}
	kek, err := keys.OpenKEK(filepath.Join(opts.DataDir, "keys", "kek.json"), opts.KMSURI)
	if err != nil {
		return fail(err)
	}
	vault := keys.NewVault(kek, raw, dekCacheSize, dekCacheTTL, now)
	// Everything above the store sees plain content; the file holds only
	// what each young person's key sealed.
	store := keys.NewSealedStore(raw, vault)
	rules := consent.DefaultRules()
	if opts.StatutoryRoles != nil {
		rules.StatutoryRoles = opts.StatutoryRoles
	}
	if opts.DecideAge > 0 {
		rules.DecideAge = opts.DecideAge
	}
	catalogue := consent.DefaultCatalogue()
	enforcer, err := policy.NewEnforcer(store, catalogue, policyCacheSize)
	if err != nil {
		return fail(err)
	}
	receipts, err := keys.NewReceiptSigner(keyring, opts.PublicURL)
	if err != nil {
		return fail(err)
	}
	origin, err := keyring.LogOrigin(logOrigin(opts.PublicURL))
	if err != nil {
		return fail(err)
	}
	logCfg := LogBatching()
	logCfg.Origin, logCfg.Retired = origin, keyring.Retired
	log, err := ledger.New(logger, store, vault, keyring.Signing, logCfg)
	if err != nil {
		return fail(err)
	}
	svc := consent.NewService(store, enforcer, log, vault, receipts, catalogue, rules, now)
	holders := opts.Holders

	oidcCfg := opts.OIDC
	var mounts []server.Mount
	if opts.Dev {
		if err := demo.Seed(ctx, store, now()); err != nil {
			return fail(err)
		}
		provider, web, err := devProvider(logger, opts, keyring)
		if err != nil {
			return fail(err)
		}
		oidcCfg = web
		holders = map[string]string{demo.HolderClient: demo.HolderOrganisation}
		mounts = append(mounts, server.Mount{Prefix: provider.PathPrefix(), Handler: provider.Handler()})
	}
	srv, err := server.New(logger, server.Config{
		PublicURL: opts.PublicURL, OIDC: oidcCfg, Now: now,
		SessionIdle: opts.SessionIdle, SessionAbsolute: opts.SessionAbsolute, Holders: holders, Limits: opts.Limits,
	}, svc, store, keyring, log, mounts...)
	if err != nil {
		return fail(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	log.Run(runCtx)
	return &Sayso{Server: srv, Store: store, Raw: raw, Keys: keyring, KEK: kek, Vault: vault, Service: svc, Log: log, stop: stop}, nil
}

// DefaultStoreDatabase is the MongoDB database Sayso uses unless told otherwise.
const DefaultStoreDatabase = "sayso"

// IsMongoURI reports whether store names a MongoDB deployment rather than
// the embedded store.
func IsMongoURI(store string) bool {
	return strings.HasPrefix(store, "mongodb://") || strings.HasPrefix(store, "mongodb+srv://")
}

// OpenStore opens the store the settings name: the embedded SQLite file
// under dataDir when store is empty, else the MongoDB deployment at the
// store URI, in database ("" for DefaultStoreDatabase).
func OpenStore(ctx context.Context, logger *slog.Logger, dataDir, store, database string) (consent.Store, error) {
	if store == "" {
		return sqlite.Open(ctx, logger, filepath.Join(dataDir, "sayso.db"))
	}
	if !IsMongoURI(store) {
		return nil, errors.New(`the store must be empty (the embedded store under the data folder) or a "mongodb://" or "mongodb+srv://" URI`)
	}
	if database == "" {
		database = DefaultStoreDatabase
	}
	return mongo.Open(ctx, logger, store, database)
}

// keysBelongHere refuses to start with no key-encryption keyset under
// dataDir when the store already holds wrapped keys: starting would make
// new keys, under which nothing already stored opens. It is how a second
// instance started with an empty data folder against a shared MongoDB (or
// a migrated store without its keys folder) is stopped before it writes.
func keysBelongHere(ctx context.Context, store consent.Store, dataDir string) error {
	kekPath := filepath.Join(dataDir, "keys", "kek.json")
	if _, err := os.Stat(kekPath); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// Any key is wrapped by something other than KEK 0 or other than KEK 1.
	held := 0
	for _, kek := range []uint32{0, 1} {
		ks, err := store.KeysNotWrappedBy(ctx, kek, "", 1)
		if err != nil {
			return err
		}
		held += len(ks)
	}
	if held > 0 {
		return fmt.Errorf("the store holds young people's keys but %s does not exist: copy the keys folder of the instance that wrote the store into %s (every instance needs the same keys)",
			kekPath, filepath.Join(dataDir, "keys"))
	}
	return nil
}

// devProvider starts the built-in identity provider with the demo people and
// returns the client settings Sayso signs in with.
func devProvider(logger *slog.Logger, opts Options, keyring *keys.Keyring) (*devidp.Provider, server.OIDCConfig, error) {
	key, err := keyring.DevIdentityKey()
	if err != nil {
		return nil, server.OIDCConfig{}, err
	}
	var people []devidp.Person
	for _, p := range demo.People() {
		people = append(people, devidp.Person{Subject: p.ID, Name: p.Name, Email: p.ID + "@example.org"})
	}
	web := server.OIDCConfig{Issuer: opts.PublicURL + "/dev-idp", ClientID: "sayso-web", ClientSecret: derive(keyring, "client secret sayso-web")}
	provider, err := devidp.New(logger, devidp.Config{
		Dev:    true,
		Issuer: web.Issuer,
		People: people,
		Clients: []devidp.Client{
			{ID: web.ClientID, Secret: web.ClientSecret, RedirectURIs: []string{opts.PublicURL + "/auth/callback"}, PostLogoutRedirectURIs: []string{opts.PublicURL + "/"}},
			{ID: demo.HolderClient, Secret: demo.HolderSecret, ClientCredentials: true},
		},
		SigningKey: key,
		CryptoKey:  sha256.Sum256([]byte(derive(keyring, "dev-idp crypto key"))),
		Now:        opts.Now,
	})
	if err != nil {
		return nil, server.OIDCConfig{}, fmt.Errorf("development identity provider: %w", err)
	}
	return provider, web, nil
}

// derive makes a stable development secret from the keyring, so a restart
// keeps working with what browsers already hold.
func derive(keyring *keys.Keyring, label string) string {
	sum := sha256.Sum256(append([]byte("sayso dev\x00"+label+"\x00"), keyring.Cookie[:]...))
	return fmt.Sprintf("%x", sum[:16])
}
