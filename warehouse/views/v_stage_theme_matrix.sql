-- Pain points by journey stage and hassle theme (comments, customers, hassles, mean severity),
-- across the whole journey from need awareness to need end, in the latest clustering window.
-- hassles counts the specific hassles the pain points fall in, parent_hassles their parents.
CREATE OR REPLACE VIEW v_stage_theme_matrix AS
WITH latest AS (
    SELECT run_id, window_start, window_end
    FROM cluster_runs ORDER BY clustered_at DESC, run_id DESC LIMIT 1
),
pain AS (
    SELECT t.stage, t.theme, u.comment_id, u.unit_id, u.severity, c.customer_id
    FROM tags AS t
    JOIN units AS u ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id
    JOIN comments AS c ON c.comment_id = u.comment_id
    CROSS JOIN latest AS l
    WHERE t.is_pain_point AND c.created_at > l.window_start AND c.created_at <= l.window_end
)
SELECT
    p.stage,
    p.theme,
    count(DISTINCT p.comment_id) AS comments,
    count(DISTINCT coalesce(p.customer_id, p.comment_id)) AS customers,
    count(DISTINCT m.hassle_id) AS hassles,
    count(DISTINCT r.parent_id) AS parent_hassles,
    round(avg(p.severity), 3) AS mean_severity
FROM pain AS p
LEFT JOIN hassle_members AS m
    ON m.unit_id = p.unit_id AND m.run_id = (SELECT run_id FROM latest)
LEFT JOIN hassle_runs AS r ON r.run_id = m.run_id AND r.hassle_id = m.hassle_id
GROUP BY ALL
ORDER BY p.stage, p.theme;
