-- Young people's data-encryption keys, wrapped by the key-encryption key.
-- Deleting a row erases everything sealed under that key.

-- +goose Up
CREATE TABLE wrapped_keys (
    young_person_id TEXT PRIMARY KEY,
    wrapped         BLOB NOT NULL,
    kek_id          INTEGER NOT NULL,
    created_at      INTEGER
) STRICT;
CREATE INDEX wrapped_keys_kek ON wrapped_keys (kek_id, young_person_id);

-- +goose Down
DROP TABLE wrapped_keys;
