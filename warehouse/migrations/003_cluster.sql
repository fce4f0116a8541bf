-- Cluster stage: recurring hassles with ids that stay stable from one nightly run to the next.

-- One row per clustering: what went in, what came out. A run whose input fingerprint equals
-- the latest one's skips clustering (nothing changed), so it adds no row.
CREATE TABLE cluster_runs (
    run_id            VARCHAR   NOT NULL PRIMARY KEY,  -- runs.run_id of the nightly run
    input_fingerprint VARCHAR   NOT NULL,  -- hash of the window's units, tags, model and settings
    window_start      TIMESTAMP NOT NULL,  -- comments created after this ...
    window_end        TIMESTAMP NOT NULL,  -- ... up to the newest comment
    model_id          VARCHAR   NOT NULL,  -- embedding model of the vectors clustered
    units_in          INTEGER   NOT NULL,  -- pain-point units in the window
    units_clustered   INTEGER   NOT NULL,  -- of which in a hassle (core + soft)
    units_core        INTEGER   NOT NULL,  -- of which HDBSCAN members
    coverage          DOUBLE    NOT NULL,  -- units_clustered / units_in
    hassles           INTEGER   NOT NULL,
    hassles_new       INTEGER   NOT NULL,
    hassles_retired   INTEGER   NOT NULL,
    min_cluster_size  INTEGER   NOT NULL,  -- after scaling with the data
    fitted_on         INTEGER   NOT NULL,  -- units HDBSCAN was fitted on (all, or a sample)
    params            JSON      NOT NULL,  -- the cluster settings used
    timings           JSON      NOT NULL,  -- seconds per step
    clustered_at      TIMESTAMP NOT NULL
);

-- One row per hassle ever found: its latest label and description, and its life.
CREATE TABLE hassles (
    hassle_id      VARCHAR   NOT NULL PRIMARY KEY,  -- H-0001: never reused, never renamed
    label          VARCHAR   NOT NULL,  -- the latest readable label; may improve run to run
    keyphrases     VARCHAR[] NOT NULL,
    stage          VARCHAR,             -- dominant journey stage of its units
    stage_share    DOUBLE,
    theme          VARCHAR,             -- dominant hassle theme of its units
    theme_share    DOUBLE,
    quote_unit_ids VARCHAR[] NOT NULL,  -- 3-5 representative units (closest to the centroid, varied)
    units          INTEGER   NOT NULL,  -- units in the latest run that found it
    status         VARCHAR   NOT NULL CHECK (status IN ('new', 'active', 'retired')),
    first_seen     TIMESTAMP NOT NULL,  -- when a run first found it
    last_seen      TIMESTAMP NOT NULL,  -- when a run last found it
    first_run_id   VARCHAR   NOT NULL,
    last_run_id    VARCHAR   NOT NULL,
    centroid       FLOAT[]   NOT NULL   -- L2-normalised mean of its unit vectors, for matching
);

-- Each hassle as one run saw it: the history of labels, sizes and matches.
CREATE TABLE hassle_runs (
    run_id         VARCHAR   NOT NULL,
    hassle_id      VARCHAR   NOT NULL,
    cluster        INTEGER   NOT NULL,  -- HDBSCAN's number in that run (arbitrary)
    status         VARCHAR   NOT NULL CHECK (status IN ('new', 'active')),
    matched_from   VARCHAR,             -- the previous run's hassle it continues (itself), or NULL
    match_score    DOUBLE,
    label          VARCHAR   NOT NULL,
    keyphrases     VARCHAR[] NOT NULL,
    stage          VARCHAR,
    stage_share    DOUBLE,
    theme          VARCHAR,
    theme_share    DOUBLE,
    quote_unit_ids VARCHAR[] NOT NULL,
    units          INTEGER   NOT NULL,
    units_core     INTEGER   NOT NULL,
    PRIMARY KEY (run_id, hassle_id)
);

-- Which unit is in which hassle, per run.
CREATE TABLE hassle_members (
    run_id      VARCHAR NOT NULL,
    unit_id     VARCHAR NOT NULL,
    hassle_id   VARCHAR NOT NULL,
    probability DOUBLE  NOT NULL,  -- HDBSCAN membership (core) or neighbour vote (soft), 0..1
    assigned_by VARCHAR NOT NULL CHECK (assigned_by IN ('core', 'soft')),
    PRIMARY KEY (run_id, unit_id)
);

-- Splits and merges: a parent hassle's units moving to a child hassle.
CREATE TABLE hassle_lineage (
    run_id    VARCHAR NOT NULL,
    parent_id VARCHAR NOT NULL,
    child_id  VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL CHECK (kind IN ('split', 'merge')),
    overlap   DOUBLE  NOT NULL,  -- share of the parent's units (still in the window) that moved
    PRIMARY KEY (run_id, parent_id, child_id)
);
