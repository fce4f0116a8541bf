-- The latest ranking of the parent hassles, the groups a product owner reads first: one row per
-- parent, rank 1 first (rank is the position among the parents), with the same score parts
-- (columns and parts map) as v_latest_hassles computed over its specific children's comments
-- (all its children's when every one is generic; a comment once per parent), and its ranked
-- children: how many, their ids and labels in rank order. Drill into a parent's children with v_latest_hassles WHERE parent_id = hassle_id.
-- Empty when the latest clustering has one level.
CREATE OR REPLACE VIEW v_latest_parent_hassles AS
WITH ranked AS (
    SELECT r.* REPLACE (coalesce(r.level, 'child') AS level), s.* EXCLUDE (run_id, hassle_id)
    FROM hassle_rankings AS r
    LEFT JOIN v_hassle_ranking_parts AS s USING (run_id, hassle_id)
    WHERE r.run_id = latest_ranking_run()
),
children AS (
    SELECT
        parent_id AS hassle_id,
        count(*) AS children,
        list(hassle_id ORDER BY rank) AS child_ids,
        list(label ORDER BY rank) AS child_labels
    FROM ranked
    WHERE level = 'child' AND parent_id IS NOT NULL
    GROUP BY parent_id
)
SELECT
    r.rank, r.hassle_id, r.label, r.stage, h.stage_share, r.theme, h.theme_share, r.generic,
    r.specificity,
    r.total_score, r.reach_score, r.severity_score, r.trend_score, r.spread_score,
    r.repeat_score, r.value_score, r.impact_score, r.parts, r.weights,
    r.customers, r.comments, r.severity_mean, r.severity_p90,
    r.trend, r.trend_7d, r.trend_7d_ratio, r.trend_30d, r.trend_30d_ratio,
    r.channels, r.channel_count, r.repeat_customers, r.value_at_risk, r.nps_impact, r.csat_impact,
    r.change, r.level, coalesce(c.children, 0) AS children,
    coalesce(c.child_ids, []) AS child_ids, coalesce(c.child_labels, []) AS child_labels,
    h.status, h.keyphrases, h.first_seen, h.last_seen, r.run_id, r.ranked_at
FROM ranked AS r
JOIN hassles AS h USING (hassle_id)
LEFT JOIN children AS c USING (hassle_id)
WHERE r.level = 'parent'
ORDER BY r.rank;
