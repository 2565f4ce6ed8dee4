package mongo

import (
	"context"
	"fmt"

	"sayso/consent"
)

// What `sayso migrate-store` needs beyond consent.Store.

// ImportPolicy stores p exactly as it is, at its version, for copying a
// store: PutPolicy cannot start a policy anywhere but at version 1.
// ErrConflict if the young person has a policy already.
func (s *Store) ImportPolicy(ctx context.Context, p consent.Policy) error {
	if p.Version < 1 {
		return fmt.Errorf("import policy of %s at version %d: %w", p.YoungPersonID, p.Version, consent.ErrInvalid)
	}
	return insert(ctx, s.policies, "import policy", toPolicyDoc(p))
}

// ValidateDatabaseName refuses a database name MongoDB would refuse, with
// a message that says why, so settings can be checked before connecting.
func ValidateDatabaseName(name string) error { return validateDatabaseName(name) }
