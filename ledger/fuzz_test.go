package ledger_test

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"sayso/ledger"
)

func FuzzParseCheckpoint(f *testing.F) {
	f.Add(ledger.Checkpoint{Origin: origin, Size: 42}.Text())
	f.Add("x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
	f.Add("x\n1\nAAAA\nextension line\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ledger.ParseCheckpoint(text)
		if err != nil {
			return
		}
		again, err := ledger.ParseCheckpoint(c.Text())
		if err != nil || again != c {
			t.Errorf("ParseCheckpoint(Text(%+v)) = %+v, %v", c, again, err)
		}
	})
}

func FuzzCheckRecord(f *testing.F) {
	f.Add(int64(3), int64(1), make([]byte, 64), make([]byte, 32), make([]byte, 32))
	f.Fuzz(func(t *testing.T, size, index int64, proof, root, leaf []byte) {
		// A proof parsed from outside input must be rejected, never panic.
		var p tlog.RecordProof
		for len(proof) >= 32 {
			var h tlog.Hash
			copy(h[:], proof)
			p = append(p, h)
			proof = proof[32:]
		}
		var r, l tlog.Hash
		copy(r[:], root)
		copy(l[:], leaf)
		_ = tlog.CheckRecord(p, size, r, index, l)
	})
}
