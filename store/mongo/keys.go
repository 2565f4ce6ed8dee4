package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"sayso/consent"
)

// A wrapped key is one document, _id the young person's id.

// PutKey stores a new wrapped key.
func (s *Store) PutKey(ctx context.Context, k consent.WrappedKey) error {
	return insert(ctx, s.keys, "put key", toKeyDoc(k))
}

// GetKey returns a young person's wrapped key.
func (s *Store) GetKey(ctx context.Context, youngPersonID string) (consent.WrappedKey, error) {
	d, err := one[keyDoc](ctx, s.keys, "get key", byID(youngPersonID))
	return d.key(), err
}

// ReplaceKey swaps in a rewrapped key only while the stored one is still
// wrapped by oldKEKID: one conditional update, so a key deleted (erased)
// meanwhile stays deleted and of two rotations only one wins.
func (s *Store) ReplaceKey(ctx context.Context, k consent.WrappedKey, oldKEKID uint32) error {
	res, err := s.keys.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: k.YoungPersonID}, {Key: "kek_id", Value: int64(oldKEKID)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "wrapped", Value: k.Wrapped}, {Key: "kek_id", Value: int64(k.KEKID)}}}})
	if err != nil {
		return fail("replace key", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	if _, err := s.GetKey(ctx, k.YoungPersonID); err != nil {
		return err
	}
	return fmt.Errorf("replace key: rewrapped meanwhile: %w", consent.ErrConflict)
}

// DeleteKey removes a young person's key.
func (s *Store) DeleteKey(ctx context.Context, youngPersonID string) error {
	_, err := s.keys.DeleteOne(ctx, byID(youngPersonID))
	return fail("delete key", err)
}

// KeysNotWrappedBy lists keys still wrapped by another KEK, walking the _id
// index from after.
func (s *Store) KeysNotWrappedBy(ctx context.Context, kekID uint32, after string, limit int) ([]consent.WrappedKey, error) {
	if limit == 0 {
		return []consent.WrappedKey{}, nil
	}
	return all(ctx, s.keys, "keys to rewrap", keyDoc.key,
		bson.D{
			{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}},
			{Key: "kek_id", Value: bson.D{{Key: "$ne", Value: int64(kekID)}}},
		},
		limited(options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), limit))
}
