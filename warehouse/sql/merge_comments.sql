-- Merge raw records into the normalised comments table.
-- Write behaviour: MERGE on (source, external_id). New records are inserted with a stable
-- comment_id; edited records update their row in place and keep their id; unchanged records
-- are left alone, so re-running over the same raw data changes nothing.
-- comments is derived from the whole of raw.records (not from "this run's" rows), so a run
-- that died after dlt loaded but before this merge is completed by the next run.
-- raw.records holds one row per (source, external_id): dlt merges it on that key.

-- Compare keys and hashes first, on narrow columns; fetch whole rows only for what changed.
CREATE OR REPLACE TEMP TABLE changed_keys AS
SELECT
    records.source,
    records.external_id,
    comments.comment_id IS NULL AS is_new
FROM raw.records AS records
LEFT JOIN comments
    ON comments.source = records.source
    AND comments.external_id = records.external_id
WHERE comments.comment_id IS NULL
    OR comments.content_hash <> records.content_hash;

CREATE OR REPLACE TEMP TABLE incoming_comments AS
SELECT records.*, changed_keys.is_new
FROM raw.records AS records
JOIN changed_keys
    ON changed_keys.source = records.source
    AND changed_keys.external_id = records.external_id;

UPDATE comments
SET
    customer_id    = i.customer_id,
    created_at     = i.created_at::TIMESTAMP,
    text           = i.text,
    rating         = i.rating,
    score          = i.score,
    score_kind     = i.score_kind,
    product        = i.product,
    language       = i.language,
    customer_value = i.customer_value,
    content_hash   = i.content_hash,
    ingest_flags   = coalesce(string_split(nullif(i.ingest_flags, ''), ','), []),
    source_file    = i.file,
    source_line    = i.line,
    updated_at     = now()::TIMESTAMP
FROM incoming_comments AS i
WHERE NOT i.is_new
    AND comments.source = i.source
    AND comments.external_id = i.external_id;

INSERT INTO comments BY NAME
SELECT
    substr(md5(source || chr(31) || external_id), 1, 16) AS comment_id,
    source,
    channel,
    external_id,
    customer_id,
    created_at::TIMESTAMP AS created_at,
    text,
    rating,
    score,
    score_kind,
    product,
    language,
    customer_value,
    content_hash,
    coalesce(string_split(nullif(ingest_flags, ''), ','), []) AS ingest_flags,
    file AS source_file,
    line AS source_line,
    now()::TIMESTAMP AS ingested_at,
    now()::TIMESTAMP AS updated_at
FROM incoming_comments
WHERE is_new;
