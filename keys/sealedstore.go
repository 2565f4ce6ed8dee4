package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"

	"sayso/consent"
)

// SealedStore wraps a store so that what it holds of a young person's
// content is encrypted under their own key before it reaches the store:
// their name, what organisations hold about them, and the words of requests
// about them. Identifiers and the fields look-ups need stay as they are
// (docs/SECURITY.md lists which are which).
type SealedStore struct {
	consent.Store
	vault *Vault
}

// NewSealedStore wraps store.
func NewSealedStore(store consent.Store, vault *Vault) *SealedStore {
	return &SealedStore{Store: store, vault: vault}
}

const sealedPrefix = "sealed:v1:"

func (s *SealedStore) seal(ctx context.Context, ypID, record, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	b, err := s.vault.Seal(ctx, ypID, record, []byte(plain))
	if err != nil {
		return "", err
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(b), nil
}

// open reverses seal; an erased young person's content reads as "".
func (s *SealedStore) open(ctx context.Context, ypID, record, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return "", consent.ErrInvalid
	}
	plain, err := s.vault.Open(ctx, ypID, record, b)
	if errors.Is(err, consent.ErrErased) {
		return "", nil
	}
	return string(plain), err
}

func (s *SealedStore) CreatePerson(ctx context.Context, p consent.Person) error {
	if p.IsYoungPerson() {
		var err error
		if p.Name, err = s.seal(ctx, p.ID, "person-name", p.Name); err != nil {
			return err
		}
	}
	return s.Store.CreatePerson(ctx, p)
}

func (s *SealedStore) openPerson(ctx context.Context, p consent.Person, err error) (consent.Person, error) {
	if err != nil {
		return p, err
	}
	p.Name, err = s.open(ctx, p.ID, "person-name", p.Name)
	return p, err
}

func (s *SealedStore) GetPerson(ctx context.Context, id string) (consent.Person, error) {
	p, err := s.Store.GetPerson(ctx, id)
	return s.openPerson(ctx, p, err)
}

func (s *SealedStore) PersonBySubject(ctx context.Context, subject string) (consent.Person, error) {
	p, err := s.Store.PersonBySubject(ctx, subject)
	return s.openPerson(ctx, p, err)
}

func (s *SealedStore) CreateHolding(ctx context.Context, h consent.Holding) error {
	var err error
	if h.Summary, err = s.seal(ctx, h.YoungPersonID, "holding|"+h.ID, h.Summary); err != nil {
		return err
	}
	return s.Store.CreateHolding(ctx, h)
}

func (s *SealedStore) HoldingsOf(ctx context.Context, youngPersonID string) ([]consent.Holding, error) {
	hs, err := s.Store.HoldingsOf(ctx, youngPersonID)
	if err != nil {
		return nil, err
	}
	for i := range hs {
		if hs[i].Summary, err = s.open(ctx, hs[i].YoungPersonID, "holding|"+hs[i].ID, hs[i].Summary); err != nil {
			return nil, err
		}
	}
	return hs, nil
}

func (s *SealedStore) sealRequest(ctx context.Context, r consent.AccessRequest) (consent.AccessRequest, error) {
	var err error
	if r.Reason, err = s.seal(ctx, r.YoungPersonID, "request-reason|"+r.ID, r.Reason); err != nil {
		return r, err
	}
	r.Message, err = s.seal(ctx, r.YoungPersonID, "request-message|"+r.ID, r.Message)
	return r, err
}

func (s *SealedStore) openRequest(ctx context.Context, r consent.AccessRequest) (consent.AccessRequest, error) {
	var err error
	if r.Reason, err = s.open(ctx, r.YoungPersonID, "request-reason|"+r.ID, r.Reason); err != nil {
		return r, err
	}
	r.Message, err = s.open(ctx, r.YoungPersonID, "request-message|"+r.ID, r.Message)
	return r, err
}

func (s *SealedStore) CreateRequest(ctx context.Context, r consent.AccessRequest) error {
	r, err := s.sealRequest(ctx, r)
	if err != nil {
		return err
	}
	return s.Store.CreateRequest(ctx, r)
}

func (s *SealedStore) UpdateRequest(ctx context.Context, r consent.AccessRequest, from consent.RequestStatus) error {
	r, err := s.sealRequest(ctx, r)
	if err != nil {
		return err
	}
	return s.Store.UpdateRequest(ctx, r, from)
}

func (s *SealedStore) GetRequest(ctx context.Context, id string) (consent.AccessRequest, error) {
	r, err := s.Store.GetRequest(ctx, id)
	if err != nil {
		return r, err
	}
	return s.openRequest(ctx, r)
}

func (s *SealedStore) openRequests(ctx context.Context, rs []consent.AccessRequest, err error) ([]consent.AccessRequest, error) {
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if rs[i], err = s.openRequest(ctx, rs[i]); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func (s *SealedStore) RequestsFor(ctx context.Context, youngPersonID string) ([]consent.AccessRequest, error) {
	rs, err := s.Store.RequestsFor(ctx, youngPersonID)
	return s.openRequests(ctx, rs, err)
}

func (s *SealedStore) RequestsBy(ctx context.Context, professionalID string) ([]consent.AccessRequest, error) {
	rs, err := s.Store.RequestsBy(ctx, professionalID)
	return s.openRequests(ctx, rs, err)
}
