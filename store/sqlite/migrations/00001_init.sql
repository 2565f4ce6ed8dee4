-- Times are INTEGER unix milliseconds UTC; NULL means the zero time.
-- No REFERENCES clauses: the Store contract is one record per step (so a
-- store without transactions can meet it), and every backend must behave
-- the same when a referenced record is missing.

-- +goose Up
CREATE TABLE people (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    birth_date INTEGER,
    operator   INTEGER NOT NULL,
    created_at INTEGER
) STRICT;
-- An empty subject is "never signed in", not a value to share.
CREATE UNIQUE INDEX people_subject ON people (subject) WHERE subject <> '';

CREATE TABLE organisations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at INTEGER
) STRICT;

CREATE TABLE memberships (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    role            TEXT NOT NULL,
    started_at      INTEGER,
    ended_at        INTEGER
) STRICT;
CREATE INDEX memberships_person ON memberships (person_id, started_at);

CREATE TABLE family_links (
    family_id       TEXT NOT NULL,
    young_person_id TEXT NOT NULL,
    relationship    TEXT NOT NULL,
    can_act         INTEGER NOT NULL,
    created_at      INTEGER,
    PRIMARY KEY (family_id, young_person_id)
) STRICT;
CREATE INDEX family_links_young_person ON family_links (young_person_id);

CREATE TABLE holdings (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    young_person_id TEXT NOT NULL,
    category        TEXT NOT NULL,
    since           INTEGER,
    system          TEXT NOT NULL,
    summary         TEXT NOT NULL
) STRICT;
CREATE INDEX holdings_young_person ON holdings (young_person_id, organisation_id, category);

-- One row per young person, like one document in a document store: grants,
-- blocks and competence are JSON in doc, and version is the compare-and-set key.
CREATE TABLE policies (
    young_person_id TEXT PRIMARY KEY,
    version         INTEGER NOT NULL,
    doc             TEXT NOT NULL
) STRICT;

CREATE TABLE requests (
    id              TEXT PRIMARY KEY,
    professional_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    young_person_id TEXT NOT NULL,
    categories      TEXT NOT NULL, -- JSON array
    purpose         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    duration_days   INTEGER NOT NULL,
    created_at      INTEGER,
    expires_at      INTEGER,
    status          TEXT NOT NULL,
    approved        TEXT NOT NULL, -- JSON array
    decided_by      TEXT NOT NULL,
    decided_at      INTEGER,
    message         TEXT NOT NULL,
    grants_applied  INTEGER NOT NULL
) STRICT;
CREATE INDEX requests_young_person ON requests (young_person_id, created_at);
CREATE INDEX requests_professional ON requests (professional_id, created_at);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL,
    created_at   INTEGER,
    last_seen_at INTEGER,
    expires_at   INTEGER
) STRICT;

CREATE TABLE once (
    key     TEXT PRIMARY KEY,
    expires INTEGER NOT NULL
) STRICT;
CREATE INDEX once_expires ON once (expires);
