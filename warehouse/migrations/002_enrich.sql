-- Enrichment: sentence units, stored embeddings, stage/theme tags, severity.

-- One vector per (model, text): a rerun, or the same text seen twice, never re-embeds.
CREATE TABLE embeddings (
    model_id   VARCHAR   NOT NULL,   -- model and backend, e.g. all-MiniLM-L6-v2@torch-bf16
    text_hash  VARCHAR   NOT NULL,   -- sha1 of the exact text embedded
    dimension  INTEGER   NOT NULL,
    vector     FLOAT[]   NOT NULL,   -- L2-normalised
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model_id, text_hash)
);

-- One row per enriched comment: language, severity, and what it was enriched with.
CREATE TABLE comment_enrichment (
    comment_id          VARCHAR   NOT NULL PRIMARY KEY,
    content_hash        VARCHAR   NOT NULL,  -- comments.content_hash when enriched; a change re-enriches
    enrich_version      VARCHAR   NOT NULL,  -- spaCy model + code version; a change re-enriches
    language            VARCHAR   NOT NULL,  -- ISO 639-1, or 'und' when undetermined
    language_confidence DOUBLE    NOT NULL,
    language_supported  BOOLEAN   NOT NULL,  -- false: marked unsupported_language, not tagged
    text_hash           VARCHAR   NOT NULL,  -- key of the comment's vector in embeddings
    sentiment           DOUBLE    NOT NULL,  -- VADER compound, -1..1
    severity            DOUBLE    NOT NULL,  -- 0..1
    severity_parts      JSON      NOT NULL,  -- {"source": .., "text": .., "intensity": .., "cues": [..]}
    unit_count          INTEGER   NOT NULL,
    enriched_at         TIMESTAMP NOT NULL
);

-- Sentences of each comment, with offsets into comments.text for quoting and highlighting.
CREATE TABLE units (
    unit_id        VARCHAR   NOT NULL PRIMARY KEY,  -- <comment_id>:<unit_index>
    comment_id     VARCHAR   NOT NULL,
    unit_index     INTEGER   NOT NULL,
    start_char     INTEGER   NOT NULL,
    end_char       INTEGER   NOT NULL,
    text           VARCHAR   NOT NULL,
    text_hash      VARCHAR   NOT NULL,
    lemmas         VARCHAR[] NOT NULL,  -- content-word lemmas, lower case
    noun_chunks    VARCHAR[] NOT NULL,
    negated        BOOLEAN   NOT NULL,  -- holds a negation (not, no, never, without, ...)
    pattern_hits   JSON      NOT NULL,  -- [{"dimension": "stage", "label": "need_end", "negated": false}]
    sentiment      DOUBLE    NOT NULL,
    severity       DOUBLE    NOT NULL,
    severity_parts JSON      NOT NULL
);

-- The best stage and theme of each comment and each unit.
CREATE TABLE tags (
    subject_kind     VARCHAR   NOT NULL CHECK (subject_kind IN ('comment', 'unit')),
    subject_id       VARCHAR   NOT NULL,  -- comment_id or unit_id
    comment_id       VARCHAR   NOT NULL,
    stage            VARCHAR,             -- a stage key, 'unassigned', or NULL (unsupported language)
    stage_confidence DOUBLE,
    theme            VARCHAR,
    theme_confidence DOUBLE,
    is_pain_point    BOOLEAN,             -- the text expresses a problem
    pain_score       DOUBLE,
    method           VARCHAR   NOT NULL,  -- how it was tagged, or 'unsupported_language'
    taxonomy_version VARCHAR   NOT NULL,
    model_id         VARCHAR   NOT NULL,
    tagged_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);
