-- The disclosure log. data holds the exact bytes the Merkle tree commits
-- to; the other columns copy fields out of it for look-ups, and
-- verify-log checks that they agree.

-- +goose Up
CREATE TABLE log_entries (
    idx             INTEGER PRIMARY KEY,
    data            BLOB NOT NULL,
    at              INTEGER NOT NULL,
    young_person_id TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    category        TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    lawful_basis    TEXT NOT NULL,
    outcome         TEXT NOT NULL
) STRICT;
CREATE INDEX log_entries_young_person ON log_entries (young_person_id, idx);
CREATE INDEX log_entries_organisation ON log_entries (organisation_id, idx);

-- Merkle tree hashes at their golang.org/x/mod/sumdb/tlog storage index.
CREATE TABLE log_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
) STRICT;

CREATE TABLE log_checkpoints (
    size   INTEGER PRIMARY KEY,
    signed BLOB NOT NULL
) STRICT;

-- +goose Down
DROP TABLE log_checkpoints;
DROP TABLE log_hashes;
DROP TABLE log_entries;
