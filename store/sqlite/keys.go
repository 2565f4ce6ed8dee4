package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"sayso/consent"
)

// PutKey stores a new wrapped key.
func (s *Store) PutKey(ctx context.Context, k consent.WrappedKey) error {
	_, err := s.exec(ctx, "put key", `INSERT INTO wrapped_keys (young_person_id, wrapped, kek_id, created_at) VALUES (?, ?, ?, ?)`,
		k.YoungPersonID, k.Wrapped, int64(k.KEKID), ms(k.CreatedAt))
	return err
}

func scanKey(sc scanner) (consent.WrappedKey, error) {
	var k consent.WrappedKey
	var kek int64
	var created sql.NullInt64
	err := sc.Scan(&k.YoungPersonID, &k.Wrapped, &kek, &created)
	k.KEKID, k.CreatedAt = uint32(kek), fromMS(created)
	return k, err
}

// GetKey returns a young person's wrapped key.
func (s *Store) GetKey(ctx context.Context, youngPersonID string) (consent.WrappedKey, error) {
	return get(ctx, s.r, "get key", scanKey, `SELECT young_person_id, wrapped, kek_id, created_at FROM wrapped_keys WHERE young_person_id = ?`, youngPersonID)
}

// ReplaceKey swaps in a rewrapped key if the stored one is still wrapped by oldKEKID.
func (s *Store) ReplaceKey(ctx context.Context, k consent.WrappedKey, oldKEKID uint32) error {
	n, err := s.exec(ctx, "replace key", `UPDATE wrapped_keys SET wrapped = ?, kek_id = ? WHERE young_person_id = ? AND kek_id = ?`,
		k.Wrapped, int64(k.KEKID), k.YoungPersonID, int64(oldKEKID))
	if err != nil || n == 1 {
		return err
	}
	if _, err := s.GetKey(ctx, k.YoungPersonID); err != nil {
		return err
	}
	return fmt.Errorf("replace key: rewrapped meanwhile: %w", consent.ErrConflict)
}

// DeleteKey removes a young person's key.
func (s *Store) DeleteKey(ctx context.Context, youngPersonID string) error {
	_, err := s.exec(ctx, "delete key", `DELETE FROM wrapped_keys WHERE young_person_id = ?`, youngPersonID)
	return err
}

// KeysNotWrappedBy lists keys still wrapped by another KEK.
func (s *Store) KeysNotWrappedBy(ctx context.Context, kekID uint32, after string, limit int) ([]consent.WrappedKey, error) {
	out, err := list(ctx, s.r, "keys to rewrap", scanKey,
		`SELECT young_person_id, wrapped, kek_id, created_at FROM wrapped_keys WHERE kek_id <> ? AND young_person_id > ? ORDER BY young_person_id LIMIT ?`,
		int64(kekID), after, limit)
	if out == nil && err == nil {
		out = []consent.WrappedKey{}
	}
	return out, err
}
