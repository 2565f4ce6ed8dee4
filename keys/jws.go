package keys

import (
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"sayso/consent"
)

// ReceiptSigner signs consent receipts as compact JWS (EdDSA) with the
// keyring's signing key, naming the issuer.
type ReceiptSigner struct {
	keys   *Keyring
	issuer string
	signer jose.Signer
}

// NewReceiptSigner returns a signer for receipts issued by issuer (Sayso's
// public URL).
func NewReceiptSigner(k *Keyring, issuer string) (*ReceiptSigner, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.SigningKeyID())
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k.Signing}, opts)
	if err != nil {
		return nil, fmt.Errorf("keys: receipt signer: %w", err)
	}
	return &ReceiptSigner{keys: k, issuer: issuer, signer: s}, nil
}

var _ consent.ReceiptSigner = (*ReceiptSigner)(nil)

// SignReceipt returns r as a compact JWS.
func (s *ReceiptSigner) SignReceipt(r consent.Receipt) (string, error) {
	r.Issuer = s.issuer
	payload, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign receipt: %w", err)
	}
	return obj.CompactSerialize()
}

// JWKS is the public half of every key that signs what Sayso hands out.
// Retired keys stay in it, so receipts signed before a rotation still verify.
func (k *Keyring) JWKS() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, pub := range k.SigningPublicKeys() {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: keyID(pub), Algorithm: string(jose.EdDSA), Use: "sig"})
	}
	return set
}
