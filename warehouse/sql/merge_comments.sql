-- Merge raw records into the normalised comments table.
-- Write behaviour: MERGE on (source, external_id). New records are inserted with a stable
-- comment_id; edited records update their row in place and keep their id; unchanged records
-- are left alone, so re-running over the same raw data changes nothing.
-- comments is derived from the whole of raw.records (not from "this run's" rows), so a run
-- that died after dlt loaded but before this merge is completed by the next run.
-- raw.records is appended by dlt: one row per record per read of a file version. Only rows
-- of completed loads count (a package still pending, or dropped, is not data yet), and of
-- each (source, file) only its latest completed load: the file as it was last read.

CREATE OR REPLACE TEMP TABLE completed_loads AS
SELECT load_id FROM raw._dlt_loads WHERE status = 0;

CREATE OR REPLACE TEMP TABLE current_files AS
SELECT source, file, max(_dlt_load_id) AS load_id
FROM raw.records
WHERE _dlt_load_id IS NULL OR _dlt_load_id IN (SELECT load_id FROM completed_loads)
GROUP BY source, file;

-- The same id in several files of a source: a file the source still holds outranks one it no
-- longer does (vanished_files: renamed, deleted, moved); then the record from the most recently
-- modified file (its modification time when it was read, so a mere touch changes nothing)
-- wins; ties go to the later file name, then the later line. Narrow columns only; rowid
-- fetches whole rows.
CREATE OR REPLACE TEMP TABLE candidates AS
SELECT
    records.rowid AS row_ref,
    records.source,
    records.external_id,
    records.file,
    records.line,
    records.file_version,
    records.content_hash,
    records.channel,
    gone.file IS NOT NULL AS vanished,
    row_number() OVER by_recency AS pick,
    first_value(records.file) OVER by_recency AS winner_file,
    first_value(records.line) OVER by_recency AS winner_line,
    first_value(records.content_hash) OVER by_recency AS winner_hash
FROM raw.records AS records
JOIN current_files
    ON current_files.source = records.source
    AND current_files.file = records.file
    AND records._dlt_load_id IS NOT DISTINCT FROM current_files.load_id
LEFT JOIN vanished_files AS gone
    ON gone.source = records.source
    AND gone.file = records.file
WINDOW by_recency AS (
    PARTITION BY records.source, records.external_id
    ORDER BY
        gone.file IS NOT NULL,
        try_cast(split_part(records.file_version, '|', 1) AS TIMESTAMPTZ) DESC NULLS LAST,
        records.file DESC,
        records.line DESC
);

-- Compare keys and hashes first, on narrow columns; fetch whole rows only for what changed.
CREATE OR REPLACE TEMP TABLE changed_keys AS
SELECT
    candidates.row_ref,
    comments.comment_id IS NULL AS is_new
FROM candidates
LEFT JOIN comments
    ON comments.source = candidates.source
    AND comments.external_id = candidates.external_id
WHERE candidates.pick = 1
    -- A source's channel is its config's: changed there, its stored comments follow.
    AND (
        comments.comment_id IS NULL
        OR comments.content_hash <> candidates.content_hash
        OR comments.channel <> candidates.channel
    );

CREATE OR REPLACE TEMP TABLE incoming_comments AS
SELECT records.*, changed_keys.is_new
FROM raw.records AS records
JOIN changed_keys ON changed_keys.row_ref = records.rowid;

-- A comment whose channel changes is enriched and tagged again: its channel's normalisation
-- defaults and pain prior shaped its sentences and tags.
DELETE FROM comment_enrichment
WHERE comment_id IN (
    SELECT comments.comment_id
    FROM comments
    JOIN incoming_comments AS i
        ON comments.source = i.source AND comments.external_id = i.external_id
    WHERE NOT i.is_new AND comments.channel <> i.channel
);

UPDATE comments
SET
    channel        = i.channel,
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
    -- Its content's time: a channel changed in the config changes no text, and must not make
    -- every comment of the source read as news to the clustering.
    updated_at     = CASE
        WHEN comments.content_hash <> i.content_hash THEN now()::TIMESTAMP
        ELSE comments.updated_at
    END
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

-- The losers are quarantined as duplicate_id, naming both locations; once per file version.
-- (A copy at the winner's own file and line is a load job replayed after a crash, not a loser.)
-- A loser with the winner's content (overlapping exports: yesterday's file and today's both
-- hold the record) loses nothing: it is counted as a copy, not quarantined. A loser from a
-- vanished file is neither: its file is gone, and what the source holds now has won.
-- is_known: quarantined by an earlier run (the same file version and line), so not tonight's.
CREATE OR REPLACE TEMP TABLE duplicate_losers AS
SELECT
    candidates.*,
    candidates.content_hash = candidates.winner_hash AS is_copy,
    EXISTS (
        SELECT 1 FROM rejected
        WHERE rejected.source = candidates.source
            AND rejected.file = candidates.file
            AND rejected.file_version = candidates.file_version
            AND rejected.line = candidates.line
            AND rejected.reason_code = 'duplicate_id'
    ) AS is_known
FROM candidates
WHERE candidates.pick > 1
    AND NOT candidates.vanished
    AND (candidates.file <> candidates.winner_file OR candidates.line <> candidates.winner_line);

-- OR IGNORE: a loser already recorded for this file version keeps its row (rejected's key).
INSERT OR IGNORE INTO rejected BY NAME
SELECT
    losers.source,
    losers.file,
    losers.line,
    losers.external_id,
    'quarantined' AS action,
    'duplicate_id' AS reason_code,
    format(
        'this id is also on line {} of {}, which was modified later (or at the same time and '
        || 'sorts later); that record was kept and this one ({} line {}) was not loaded. '
        || 'Give each record its own id, or remove the older copy',
        losers.winner_line, losers.winner_file, losers.file, losers.line
    ) AS reason,
    records.record AS raw_text,
    losers.file_version,
    now()::TIMESTAMP AS rejected_at
FROM duplicate_losers AS losers
JOIN raw.records AS records ON records.rowid = losers.row_ref
WHERE NOT losers.is_copy;

-- Bounded raw storage: a file's earlier reads are superseded by its latest completed load.
DELETE FROM raw.records AS records
USING current_files
WHERE records.source = current_files.source
    AND records.file = current_files.file
    AND current_files.load_id IS NOT NULL
    AND (records._dlt_load_id IS NULL OR records._dlt_load_id < current_files.load_id)
    AND (
        records._dlt_load_id IS NULL
        OR records._dlt_load_id IN (SELECT load_id FROM completed_loads)
    );
