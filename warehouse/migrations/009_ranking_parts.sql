-- Ranking parts long-form (issue 13): one row per (run, hassle, factor), so a new ranking factor
-- (nlp/factors.py) is stored without a migration. The per-part columns of hassle_rankings move
-- here; v_ranking_parts pivots them back for analysts (reach_score, severity_score, ...), and
-- v_latest_hassles / v_latest_parent_hassles keep their columns.

-- A factor left out of a hassle's score (no data in that run, or weight 0) has no row.
CREATE TABLE hassle_ranking_parts (
    run_id    VARCHAR NOT NULL,  -- hassle_rankings.run_id
    hassle_id VARCHAR NOT NULL,  -- hassle_rankings.hassle_id
    factor    VARCHAR NOT NULL,  -- the factor's name: reach, severity, repeat, ...
    value     DOUBLE  NOT NULL,  -- 0..1; its weight is in hassle_rankings.weights
    PRIMARY KEY (run_id, hassle_id, factor)
);

INSERT INTO hassle_ranking_parts
SELECT run_id, hassle_id, factor, value
FROM (
    SELECT run_id, hassle_id, 'reach' AS factor, reach_score AS value FROM hassle_rankings
    UNION ALL SELECT run_id, hassle_id, 'severity', severity_score FROM hassle_rankings
    UNION ALL SELECT run_id, hassle_id, 'repeat', repeat_score FROM hassle_rankings
    UNION ALL SELECT run_id, hassle_id, 'spread', spread_score FROM hassle_rankings
    UNION ALL SELECT run_id, hassle_id, 'trend', trend_score FROM hassle_rankings
    UNION ALL SELECT run_id, hassle_id, 'value', value_score FROM hassle_rankings
    UNION ALL SELECT run_id, hassle_id, 'impact', impact_score FROM hassle_rankings
)
WHERE value IS NOT NULL;

ALTER TABLE hassle_rankings DROP COLUMN reach_score;
ALTER TABLE hassle_rankings DROP COLUMN severity_score;
ALTER TABLE hassle_rankings DROP COLUMN repeat_score;
ALTER TABLE hassle_rankings DROP COLUMN spread_score;
ALTER TABLE hassle_rankings DROP COLUMN trend_score;
ALTER TABLE hassle_rankings DROP COLUMN value_score;
ALTER TABLE hassle_rankings DROP COLUMN impact_score;
