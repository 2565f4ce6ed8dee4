package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"sayso/consent"
)

// insert stores a new document; a taken _id or unique value is ErrConflict.
func insert(ctx context.Context, c *mongo.Collection, op string, doc any) error {
	_, err := c.InsertOne(ctx, doc)
	return fail(op, err)
}

// setOrUnset is an update that sets field to t, or removes it for the zero time.
func setOrUnset(field string, t time.Time) bson.D {
	if t.IsZero() {
		return bson.D{{Key: "$unset", Value: bson.D{{Key: field, Value: ""}}}}
	}
	return bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: dt(t)}}}}
}

// People

func (s *Store) CreatePerson(ctx context.Context, p consent.Person) error {
	return insert(ctx, s.people, "create person", toPersonDoc(p))
}

func (s *Store) GetPerson(ctx context.Context, id string) (consent.Person, error) {
	d, err := one[personDoc](ctx, s.people, "get person", byID(id))
	return d.person(), err
}

func (s *Store) PersonBySubject(ctx context.Context, subject string) (consent.Person, error) {
	// Many people may have no subject; none of them is "signed in as ''".
	if subject == "" {
		return consent.Person{}, fmt.Errorf("person by subject: %w", consent.ErrNotFound)
	}
	d, err := one[personDoc](ctx, s.people, "person by subject", bson.D{{Key: "subject", Value: subject}})
	return d.person(), err
}

// Organisations

func (s *Store) CreateOrganisation(ctx context.Context, o consent.Organisation) error {
	return insert(ctx, s.organisations, "create organisation", toOrganisationDoc(o))
}

func (s *Store) GetOrganisation(ctx context.Context, id string) (consent.Organisation, error) {
	d, err := one[organisationDoc](ctx, s.organisations, "get organisation", byID(id))
	return d.organisation(), err
}

// Memberships

func (s *Store) CreateMembership(ctx context.Context, m consent.Membership) error {
	return insert(ctx, s.memberships, "create membership", toMembershipDoc(m))
}

func (s *Store) EndMembership(ctx context.Context, id string, at time.Time) error {
	res, err := s.memberships.UpdateOne(ctx, byID(id), setOrUnset("ended_at", at))
	if err != nil {
		return fail("end membership", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("end membership %s: %w", id, consent.ErrNotFound)
	}
	return nil
}

func (s *Store) MembershipsOf(ctx context.Context, personID string) ([]consent.Membership, error) {
	return all(ctx, s.memberships, "memberships", membershipDoc.membership,
		bson.D{{Key: "person_id", Value: personID}},
		options.Find().SetSort(bson.D{{Key: "started_at", Value: 1}, {Key: "_id", Value: 1}}))
}

// Family links

func (s *Store) CreateFamilyLink(ctx context.Context, l consent.FamilyLink) error {
	return insert(ctx, s.family, "create family link", toFamilyDoc(l))
}

func (s *Store) FamilyOf(ctx context.Context, youngPersonID string) ([]consent.FamilyLink, error) {
	return all(ctx, s.family, "family of", familyDoc.link,
		bson.D{{Key: "young_person_id", Value: youngPersonID}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "family_id", Value: 1}}))
}

func (s *Store) ChildrenOf(ctx context.Context, familyID string) ([]consent.FamilyLink, error) {
	return all(ctx, s.family, "children of", familyDoc.link,
		bson.D{{Key: "family_id", Value: familyID}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "young_person_id", Value: 1}}))
}

// Holdings

func (s *Store) CreateHolding(ctx context.Context, h consent.Holding) error {
	return insert(ctx, s.holdings, "create holding", toHoldingDoc(h))
}

func (s *Store) HoldingsOf(ctx context.Context, youngPersonID string) ([]consent.Holding, error) {
	return all(ctx, s.holdings, "holdings", holdingDoc.holding,
		bson.D{{Key: "young_person_id", Value: youngPersonID}},
		options.Find().SetSort(bson.D{{Key: "organisation_id", Value: 1}, {Key: "category", Value: 1}, {Key: "_id", Value: 1}}))
}

// Sessions

func (s *Store) CreateSession(ctx context.Context, x consent.Session) error {
	return insert(ctx, s.sessions, "create session", toSessionDoc(x))
}

func (s *Store) GetSession(ctx context.Context, idHash string) (consent.Session, error) {
	d, err := one[sessionDoc](ctx, s.sessions, "get session", byID(idHash))
	return d.session(), err
}

func (s *Store) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	res, err := s.sessions.UpdateOne(ctx, byID(idHash), setOrUnset("last_seen_at", at))
	if err != nil {
		return fail("touch session", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("touch session: %w", consent.ErrNotFound)
	}
	return nil
}

func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.sessions.DeleteOne(ctx, byID(idHash))
	return fail("delete session", err)
}

// UseOnce inserts the key; if it is there already, it takes the document
// over only while its expiry has passed, in one conditional update, so of
// any number of concurrent callers exactly one succeeds. If the TTL monitor
// removed the expired document in between, the insert is tried once more.
func (s *Store) UseOnce(ctx context.Context, key string, expires time.Time) error {
	doc := onceDoc{Key: key, Expires: bson.DateTime(expires.UnixMilli())}
	for range 2 {
		err := insert(ctx, s.once, "use once", doc)
		if !errors.Is(err, consent.ErrConflict) {
			return err
		}
		now := bson.DateTime(time.Now().UnixMilli())
		res, err := s.once.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: key}, {Key: "expires", Value: bson.D{{Key: "$lte", Value: now}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: doc.Expires}}}})
		if err != nil {
			return fail("use once", err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		// Still in use, or removed by the TTL monitor just now: a second
		// insert tells which.
	}
	return fmt.Errorf("use once: %w", consent.ErrConflict)
}
