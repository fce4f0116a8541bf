-- The latest ranking: one row per hassle, rank 1 first, with every score part and its life.
CREATE OR REPLACE VIEW v_latest_hassles AS
WITH latest AS (
    SELECT run_id FROM hassle_rankings ORDER BY ranked_at DESC, run_id DESC LIMIT 1
),
ranked AS (
    SELECT r.* FROM hassle_rankings AS r SEMI JOIN latest USING (run_id)
)
SELECT
    r.rank, r.hassle_id, r.label, r.stage, r.theme, r.generic,
    r.total_score, r.reach_score, r.severity_score, r.trend_score, r.spread_score,
    r.repeat_score, r.value_score, r.impact_score, r.weights,
    r.customers, r.comments, r.severity_mean, r.severity_p90,
    r.trend, r.trend_7d, r.trend_7d_ratio, r.trend_30d, r.trend_30d_ratio,
    r.channels, r.channel_count, r.repeat_customers, r.value_at_risk, r.nps_impact, r.csat_impact,
    r.change, h.status, h.keyphrases, h.first_seen, h.last_seen, r.run_id, r.ranked_at
FROM ranked AS r
JOIN hassles AS h USING (hassle_id)
ORDER BY r.rank;
