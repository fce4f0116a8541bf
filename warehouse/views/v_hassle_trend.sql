-- Daily mentions of each hassle in the latest clustering's window: comments and customers a day.
CREATE OR REPLACE VIEW v_hassle_trend AS
WITH latest AS (
    SELECT run_id FROM cluster_runs ORDER BY clustered_at DESC, run_id DESC LIMIT 1
),
mentions AS (
    SELECT DISTINCT m.hassle_id, u.comment_id
    FROM hassle_members AS m
    SEMI JOIN latest USING (run_id)
    JOIN units AS u USING (unit_id)
)
SELECT
    m.hassle_id,
    h.label,
    c.created_at::DATE AS day,
    count(*) AS comments,
    count(DISTINCT coalesce(c.customer_id, c.comment_id)) AS customers
FROM mentions AS m
JOIN comments AS c USING (comment_id)
JOIN hassles AS h USING (hassle_id)
GROUP BY ALL
ORDER BY m.hassle_id, day;
