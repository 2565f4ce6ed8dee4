package consent_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"sayso/consent"
)

// plainSealer leaves bytes as they are: the encoding is under test here,
// not the cipher (keys/ tests that).
type plainSealer struct{}

func (plainSealer) Seal(_ context.Context, _, _ string, p []byte) ([]byte, error) { return p, nil }
func (plainSealer) Open(_ context.Context, _, _ string, p []byte) ([]byte, error) { return p, nil }

func FuzzDisclosure_RoundTrip(f *testing.F) {
	f.Add("sam", "Sam Patel", "amara", "address", "home-visit", "g-1", int64(1772528400000), "riverside-case-system")
	f.Add("", "", "", "", "", "", int64(0), "")
	f.Add("a\nb", "\u202e\x00\"", "y\\p", "</script>", "%00", "g", int64(-1), "\r\n")
	f.Fuzz(func(t *testing.T, actor, name, yp, category, purpose, grant string, ms int64, holder string) {
		ctx := context.Background()
		d := consent.Disclosure{At: time.UnixMilli(ms % (1 << 50)).UTC(), ActorID: actor, ActorName: name, YoungPersonID: yp,
			Category: category, Purpose: purpose, GrantID: grant, HolderClient: holder, Channel: consent.ChannelAPI, Outcome: consent.OutcomeDisclosed,
			Note: name + holder, About: grant}
		// Decision entries carry a review date and a flag; cover both shapes.
		if ms%2 == 0 {
			d.Outcome, d.Statutory, d.Condition, d.ReviewBy = consent.OutcomeDelayed, true, purpose, time.UnixMilli((ms/2)%(1<<50)).UTC()
		}
		b1, err := consent.EncodeDisclosure(ctx, plainSealer{}, d)
		if err != nil {
			t.Fatalf("EncodeDisclosure(%+v) = %v", d, err)
		}
		b2, _ := consent.EncodeDisclosure(ctx, plainSealer{}, d)
		if sha256.Sum256(b1) != sha256.Sum256(b2) {
			t.Fatalf("EncodeDisclosure is not stable: %q then %q", b1, b2)
		}
		got, err := consent.DecodeDisclosure(ctx, plainSealer{}, b1)
		if err != nil {
			t.Fatalf("DecodeDisclosure(EncodeDisclosure(x)) = %v", err)
		}
		// JSON replaces invalid UTF-8, so only valid strings come back exactly.
		if validUTF8(d) && got != d {
			t.Errorf("DecodeDisclosure(EncodeDisclosure(%+v)) = %+v", d, got)
		}
	})
}

func validUTF8(d consent.Disclosure) bool {
	for _, s := range []string{d.ActorID, d.ActorName, d.YoungPersonID, d.Category, d.Purpose, d.GrantID, d.HolderClient, d.Note, d.About, d.Condition} {
		if !bytes.Equal([]byte(s), bytes.ToValidUTF8([]byte(s), []byte("\uFFFD"))) {
			return false
		}
	}
	return true
}

func FuzzDisclosure_DecodeArbitrary(f *testing.F) {
	good, _ := consent.EncodeDisclosure(context.Background(), plainSealer{}, consent.Disclosure{ActorID: "sam", YoungPersonID: "amara"})
	f.Add(good)
	f.Add([]byte("sayso-disclosure/2\n{}"))
	f.Add([]byte("sayso-disclosure/2\n{\"sealed\":\"!!\"}"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Must never panic; anything accepted must re-encode to a decodable entry.
		d, err := consent.DecodeDisclosure(context.Background(), plainSealer{}, b)
		if err != nil {
			return
		}
		again, err := consent.EncodeDisclosure(context.Background(), plainSealer{}, d)
		if err != nil {
			return
		}
		if _, err := consent.DecodeDisclosure(context.Background(), plainSealer{}, again); err != nil {
			t.Errorf("re-encoded entry does not decode: %v", err)
		}
	})
}
