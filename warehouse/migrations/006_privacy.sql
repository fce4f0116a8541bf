-- Privacy (issue 11): the key that pseudonymises customer ids in the analyst snapshot, and a
-- fresh redaction of every comment by the new redactor.

-- One row: this warehouse's HMAC-SHA256 key, made by the first snapshot written
-- (warehouse/snapshot.py). The snapshot copies the tables it names, never this one.
CREATE TABLE snapshot_key (
    key        BLOB      NOT NULL,  -- 32 random bytes
    created_at TIMESTAMP NOT NULL
);

-- Text redacted before this version still holds names, IBANs, addresses, passwords, ...:
-- the next publish redacts every comment again.
DELETE FROM comments_redacted;
