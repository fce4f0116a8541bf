-- The latest ranking of the specific hassles (children): one row per hassle, rank 1 first, with
-- every score part (the built-in factors as *_score columns, every factor in the parts map), its
-- life, and the parent hassle it is grouped under (parent_id, parent_label, parent_rank; NULL in
-- a one-level clustering). rank is the position among the
-- children. The parents are in v_latest_parent_hassles; drill into one with
-- WHERE parent_id = 'P-0001'.
CREATE OR REPLACE VIEW v_latest_hassles AS
WITH ranked AS (
    SELECT r.* REPLACE (coalesce(r.level, 'child') AS level), s.* EXCLUDE (run_id, hassle_id)
    FROM hassle_rankings AS r
    LEFT JOIN v_hassle_ranking_parts AS s USING (run_id, hassle_id)
    WHERE r.run_id = latest_ranking_run()
)
SELECT
    r.rank, r.hassle_id, r.label, r.stage, h.stage_share, r.theme, h.theme_share, r.generic,
    r.specificity,
    r.total_score, r.reach_score, r.severity_score, r.trend_score, r.spread_score,
    r.repeat_score, r.value_score, r.impact_score, r.parts, r.weights,
    r.customers, r.comments, r.severity_mean, r.severity_p90,
    r.trend, r.trend_7d, r.trend_7d_ratio, r.trend_30d, r.trend_30d_ratio,
    r.channels, r.channel_count, r.repeat_customers, r.value_at_risk, r.nps_impact, r.csat_impact,
    r.change, r.level, r.parent_id, p.label AS parent_label, p.rank AS parent_rank,
    h.status, h.keyphrases, h.first_seen, h.last_seen, r.run_id, r.ranked_at
FROM ranked AS r
JOIN hassles AS h USING (hassle_id)
LEFT JOIN ranked AS p ON p.hassle_id = r.parent_id AND p.level = 'parent'
WHERE r.level = 'child'
ORDER BY r.rank;
