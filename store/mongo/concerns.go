package mongo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"sayso/consent"
)

// colConcerns holds one document per concern; its indexes are in the
// indexes table in mongo.go.
const colConcerns = "concerns"

// Concern indexes, listed in the indexes table.
var (
	concernsOrganisationIndex = index{Collection: colConcerns, Name: "concerns_organisation",
		Keys: bson.D{{Key: "organisation_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}}
	concernsYoungPersonIndex = index{Collection: colConcerns, Name: "concerns_young_person",
		Keys: bson.D{{Key: "young_person_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}}
	holdingsOrganisationIndex = index{Collection: colHoldings, Name: "holdings_organisation",
		Keys: bson.D{{Key: "organisation_id", Value: 1}, {Key: "young_person_id", Value: 1}}}
	membershipsOrganisationIndex = index{Collection: colMemberships, Name: "memberships_organisation",
		Keys: bson.D{{Key: "organisation_id", Value: 1}, {Key: "started_at", Value: 1}, {Key: "_id", Value: 1}}}
)

type concernDoc struct {
	ID             string         `bson:"_id"`
	LogIndex       int64          `bson:"log_index"`
	YoungPersonID  string         `bson:"young_person_id"`
	RaisedBy       string         `bson:"raised_by"`
	OrganisationID string         `bson:"organisation_id"`
	Message        string         `bson:"message"`
	CreatedAt      *bson.DateTime `bson:"created_at,omitempty"`
	Answer         string         `bson:"answer"`
	AnsweredBy     string         `bson:"answered_by"`
	AnsweredAt     *bson.DateTime `bson:"answered_at,omitempty"`
}

func toConcernDoc(c consent.Concern) concernDoc {
	return concernDoc{ID: c.ID, LogIndex: c.LogIndex, YoungPersonID: c.YoungPersonID, RaisedBy: c.RaisedBy, OrganisationID: c.OrganisationID,
		Message: c.Message, CreatedAt: dt(c.CreatedAt), Answer: c.Answer, AnsweredBy: c.AnsweredBy, AnsweredAt: dt(c.AnsweredAt)}
}

func (d concernDoc) concern() consent.Concern {
	return consent.Concern{ID: d.ID, LogIndex: d.LogIndex, YoungPersonID: d.YoungPersonID, RaisedBy: d.RaisedBy, OrganisationID: d.OrganisationID,
		Message: d.Message, CreatedAt: tm(d.CreatedAt), Answer: d.Answer, AnsweredBy: d.AnsweredBy, AnsweredAt: tm(d.AnsweredAt)}
}

func (s *Store) concerns() *mongo.Collection { return s.db.Collection(colConcerns) }

func (s *Store) CreateConcern(ctx context.Context, c consent.Concern) error {
	return insert(ctx, s.concerns(), "create concern", toConcernDoc(c))
}

func (s *Store) listConcerns(ctx context.Context, op, field, value string) ([]consent.Concern, error) {
	return all(ctx, s.concerns(), op, concernDoc.concern,
		bson.D{{Key: field, Value: value}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}))
}

func (s *Store) ConcernsFor(ctx context.Context, organisationID string) ([]consent.Concern, error) {
	return s.listConcerns(ctx, "concerns for", "organisation_id", organisationID)
}

func (s *Store) ConcernsAbout(ctx context.Context, youngPersonID string) ([]consent.Concern, error) {
	return s.listConcerns(ctx, "concerns about", "young_person_id", youngPersonID)
}

// AnswerConcern sets the answer only where none is recorded, in one
// single-document update; no match means unknown or answered already.
func (s *Store) AnswerConcern(ctx context.Context, id, answer, answeredBy string, at time.Time) error {
	res, err := s.concerns().UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "answered_by", Value: ""}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "answer", Value: answer}, {Key: "answered_by", Value: answeredBy}, {Key: "answered_at", Value: dt(at)}}}})
	if err != nil {
		return fail("answer concern", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	if _, err := one[concernDoc](ctx, s.concerns(), "answer concern", byID(id)); err != nil {
		return err
	}
	return fmt.Errorf("answer concern %s: %w", id, consent.ErrConflict)
}

// Look-ups by organisation

func (s *Store) YoungPeopleHeldBy(ctx context.Context, organisationID string) ([]string, error) {
	res := s.holdings.Distinct(ctx, "young_person_id", bson.D{{Key: "organisation_id", Value: organisationID}})
	if err := res.Err(); err != nil {
		return nil, fail("young people held by", err)
	}
	var ids []string
	if err := res.Decode(&ids); err != nil {
		return nil, fail("young people held by", err)
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Store) MembershipsIn(ctx context.Context, organisationID string) ([]consent.Membership, error) {
	return all(ctx, s.memberships, "memberships in", membershipDoc.membership,
		bson.D{{Key: "organisation_id", Value: organisationID}},
		options.Find().SetSort(bson.D{{Key: "started_at", Value: 1}, {Key: "_id", Value: 1}}))
}
