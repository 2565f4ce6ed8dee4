package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"sayso/consent"
)

// Policies

func (s *Store) GetPolicy(ctx context.Context, youngPersonID string) (consent.Policy, error) {
	d, err := one[policyDoc](ctx, s.policies, "get policy", byID(youngPersonID))
	if errors.Is(err, consent.ErrNotFound) {
		return consent.Policy{YoungPersonID: youngPersonID}, nil
	}
	if err != nil {
		return consent.Policy{}, err
	}
	return d.policy(), nil
}

func (s *Store) PolicyVersion(ctx context.Context, youngPersonID string) (int64, error) {
	d, err := one[policyDoc](ctx, s.policies, "policy version", byID(youngPersonID),
		options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}}))
	if errors.Is(err, consent.ErrNotFound) {
		return 0, nil
	}
	return d.Version, err
}

// PutPolicy is one conditional write on the young person's one document:
// version 1 is an insert (the _id index refuses a second), every later
// version replaces the document only while it is at the version before.
// Grants, blocks, competence and the version change together or not at all.
func (s *Store) PutPolicy(ctx context.Context, p consent.Policy) error {
	if p.Version < 1 {
		return fmt.Errorf("put policy version %d: %w", p.Version, consent.ErrConflict)
	}
	doc := toPolicyDoc(p)
	if p.Version == 1 {
		err := insert(ctx, s.policies, "put policy", doc)
		if errors.Is(err, consent.ErrConflict) {
			return fmt.Errorf("put policy of %s at version 1: %w", p.YoungPersonID, consent.ErrConflict)
		}
		return err
	}
	res, err := s.policies.ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: p.YoungPersonID}, {Key: "version", Value: p.Version - 1}}, doc)
	if err != nil {
		return fail("put policy", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("put policy of %s at version %d: %w", p.YoungPersonID, p.Version, consent.ErrConflict)
	}
	return nil
}

// Access requests

func (s *Store) CreateRequest(ctx context.Context, r consent.AccessRequest) error {
	return insert(ctx, s.requests, "create request", toRequestDoc(r))
}

func (s *Store) GetRequest(ctx context.Context, id string) (consent.AccessRequest, error) {
	d, err := one[requestDoc](ctx, s.requests, "get request", byID(id))
	return d.request(), err
}

// UpdateRequest replaces the request only while its status is still from;
// when nothing matched, a second look tells a missing request from a lost
// race.
func (s *Store) UpdateRequest(ctx context.Context, r consent.AccessRequest, from consent.RequestStatus) error {
	res, err := s.requests.ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: r.ID}, {Key: "status", Value: string(from)}}, toRequestDoc(r))
	if err != nil {
		return fail("update request", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	if _, err := one[struct {
		ID string `bson:"_id"`
	}](ctx, s.requests, "update request", byID(r.ID),
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})); err != nil {
		return err
	}
	return fmt.Errorf("update request %s: status is no longer %s: %w", r.ID, from, consent.ErrConflict)
}

func (s *Store) RequestsFor(ctx context.Context, youngPersonID string) ([]consent.AccessRequest, error) {
	return s.listRequests(ctx, "requests for", "young_person_id", youngPersonID)
}

func (s *Store) RequestsBy(ctx context.Context, professionalID string) ([]consent.AccessRequest, error) {
	return s.listRequests(ctx, "requests by", "professional_id", professionalID)
}

func (s *Store) listRequests(ctx context.Context, op, field, value string) ([]consent.AccessRequest, error) {
	return all(ctx, s.requests, op, requestDoc.request,
		bson.D{{Key: field, Value: value}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}))
}
