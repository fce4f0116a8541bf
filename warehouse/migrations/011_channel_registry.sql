-- Channels are declared once, in config/channels.py: the settings accept only those names, and
-- a source type whose records carry their own channel quarantines a bad one with its reason.
-- The CHECK constraint that repeated the list (001_core.sql) goes, so that adding a channel
-- needs no migration. DuckDB cannot drop a CHECK constraint, so the table is rebuilt with the
-- same columns, keys and other constraints.
CREATE TABLE comments_rebuilt (
    comment_id      VARCHAR   NOT NULL PRIMARY KEY,
    source          VARCHAR   NOT NULL,
    channel         VARCHAR   NOT NULL,              -- one of config/channels.py CHANNELS
    external_id     VARCHAR   NOT NULL,
    customer_id     VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    text            VARCHAR   NOT NULL,
    rating          TINYINT CHECK (rating BETWEEN 1 AND 5),
    score           TINYINT CHECK (score BETWEEN 0 AND 10),
    score_kind      VARCHAR CHECK (score_kind IN ('nps', 'csat')),
    product         VARCHAR,
    language        VARCHAR,
    customer_value  DOUBLE,
    content_hash    VARCHAR   NOT NULL,
    ingest_flags    VARCHAR[] NOT NULL DEFAULT [],
    source_file     VARCHAR   NOT NULL,              -- for a source type without files: what it read
    source_line     BIGINT    NOT NULL,
    ingested_at     TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (source, external_id)
);
INSERT INTO comments_rebuilt BY NAME SELECT * FROM comments;
DROP TABLE comments;
ALTER TABLE comments_rebuilt RENAME TO comments;
