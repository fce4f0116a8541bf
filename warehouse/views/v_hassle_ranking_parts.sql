-- Every run's score parts per hassle, pivoted from the long form (hassle_ranking_parts): one row
-- per (run_id, hassle_id). parts holds every factor that scored the hassle, by name (a factor
-- added in nlp/factors.py shows up here with no change to this file); the *_score columns are the
-- built-in factors, kept as columns for analysts (NULL when the factor had no data that run).
CREATE OR REPLACE VIEW v_hassle_ranking_parts AS
SELECT
    run_id,
    hassle_id,
    max(value) FILTER (WHERE factor = 'reach') AS reach_score,
    max(value) FILTER (WHERE factor = 'severity') AS severity_score,
    max(value) FILTER (WHERE factor = 'trend') AS trend_score,
    max(value) FILTER (WHERE factor = 'spread') AS spread_score,
    max(value) FILTER (WHERE factor = 'repeat') AS repeat_score,
    max(value) FILTER (WHERE factor = 'value') AS value_score,
    max(value) FILTER (WHERE factor = 'impact') AS impact_score,
    map(list(factor ORDER BY factor), list(value ORDER BY factor)) AS parts
FROM hassle_ranking_parts
GROUP BY run_id, hassle_id;
