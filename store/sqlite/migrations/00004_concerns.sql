-- Concerns: a young person saying an entry of their "who has looked" list
-- does not look right, for the DPO of the organisation whose person looked.
-- message and answer hold words the service sealed under the young person's key.
-- Also the indexes for the pages' look-ups by organisation.

-- +goose Up
CREATE TABLE concerns (
    id              TEXT PRIMARY KEY,
    log_index       INTEGER NOT NULL,
    young_person_id TEXT NOT NULL,
    raised_by       TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    message         TEXT NOT NULL,
    created_at      INTEGER,
    answer          TEXT NOT NULL,
    answered_by     TEXT NOT NULL,
    answered_at     INTEGER
) STRICT;
CREATE INDEX concerns_organisation ON concerns (organisation_id, created_at);
CREATE INDEX concerns_young_person ON concerns (young_person_id, created_at);
CREATE INDEX holdings_organisation ON holdings (organisation_id, young_person_id);
CREATE INDEX memberships_organisation ON memberships (organisation_id, started_at);

-- +goose Down
DROP INDEX memberships_organisation;
DROP INDEX holdings_organisation;
DROP TABLE concerns;
