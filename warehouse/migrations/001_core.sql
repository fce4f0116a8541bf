-- Core tables: normalised comments, quarantined input, and one row per flow run.
-- Raw records land in the `raw` schema, written by dlt (see warehouse/raw.py).

CREATE TABLE comments (
    comment_id      VARCHAR   NOT NULL PRIMARY KEY,  -- stable: md5(source, external_id), first 16 hex
    source          VARCHAR   NOT NULL,              -- configured source name
    channel         VARCHAR   NOT NULL CHECK (channel IN ('review', 'ticket', 'survey')),
    external_id     VARCHAR   NOT NULL,              -- the record's id in its source system
    customer_id     VARCHAR,                         -- null for anonymous feedback
    created_at      TIMESTAMP NOT NULL,              -- UTC
    text            VARCHAR   NOT NULL,              -- cleaned; the fields that make up the comment
    rating          TINYINT CHECK (rating BETWEEN 1 AND 5),   -- review stars
    score           TINYINT CHECK (score BETWEEN 0 AND 10),   -- survey score
    score_kind      VARCHAR CHECK (score_kind IN ('nps', 'csat')),
    product         VARCHAR,
    language        VARCHAR,                         -- ISO 639-1 when the source states it
    customer_value  DOUBLE,                          -- per-customer value from the source, if any
    content_hash    VARCHAR   NOT NULL,              -- changes when any normalised field changes
    ingest_flags    VARCHAR[] NOT NULL DEFAULT [],   -- repairs made while reading (html_stripped, ...)
    source_file     VARCHAR   NOT NULL,
    source_line     BIGINT    NOT NULL,              -- line (csv, jsonl) or row index (parquet)
    ingested_at     TIMESTAMP NOT NULL,              -- first time this comment was loaded
    updated_at      TIMESTAMP NOT NULL,              -- last time its content changed
    UNIQUE (source, external_id)
);

CREATE TABLE rejected (
    source       VARCHAR   NOT NULL,
    file         VARCHAR   NOT NULL,
    line         BIGINT    NOT NULL,   -- 0 when the whole file was unusable
    external_id  VARCHAR,
    action       VARCHAR   NOT NULL CHECK (action IN ('quarantined', 'repaired')),
    reason_code  VARCHAR   NOT NULL,
    reason       VARCHAR   NOT NULL,
    raw_text     VARCHAR,              -- the record as received (possibly decoded with replacement)
    file_version VARCHAR   NOT NULL,   -- modification time and size of the file when read
    rejected_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (source, file, file_version, line, reason_code)
);

CREATE TABLE runs (
    run_id        VARCHAR   NOT NULL PRIMARY KEY,  -- Prefect flow-run id
    flow_name     VARCHAR   NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    ended_at      TIMESTAMP,
    status        VARCHAR   NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    failed_stage  VARCHAR,
    error         VARCHAR,
    stage_counts  JSON                            -- {"ingest": {"comments_new": 10, ...}, ...}
);
