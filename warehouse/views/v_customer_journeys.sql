-- Each customer's comments across channels and journey stages, in time order: the view across
-- silos. Text is PII-redacted; hassle_ids are the latest clustering's specific hassles in the
-- comment, parent_hassle_ids their parents. is_pain_point reads the comment whole; pain_points
-- counts its pain-point sentences, which hassles are made of (a comment whose whole reads as
-- praise may hold one).
CREATE OR REPLACE VIEW v_customer_journeys AS
WITH latest AS (
    SELECT run_id FROM cluster_runs ORDER BY clustered_at DESC, run_id DESC LIMIT 1
),
comment_hassles AS (
    SELECT
        u.comment_id,
        list(DISTINCT m.hassle_id ORDER BY m.hassle_id) AS hassle_ids,
        list(DISTINCT r.parent_id ORDER BY r.parent_id) FILTER (r.parent_id IS NOT NULL)
            AS parent_hassle_ids
    FROM hassle_members AS m
    SEMI JOIN latest USING (run_id)
    JOIN units AS u USING (unit_id)
    LEFT JOIN hassle_runs AS r ON r.run_id = m.run_id AND r.hassle_id = m.hassle_id
    GROUP BY u.comment_id
),
comment_pain_points AS (
    SELECT comment_id, count(*) FILTER (is_pain_point) AS pain_points
    FROM tags
    WHERE subject_kind = 'unit'
    GROUP BY comment_id
)
SELECT
    c.customer_id,
    row_number() OVER (PARTITION BY c.customer_id ORDER BY c.created_at, c.comment_id) AS step,
    c.created_at,
    c.channel,
    c.source,
    c.comment_id,
    c.product,
    t.stage,
    t.theme,
    t.is_pain_point,
    coalesce(p.pain_points, 0) AS pain_points,
    e.severity,
    c.rating,
    c.score,
    c.score_kind,
    coalesce(h.hassle_ids, []) AS hassle_ids,
    coalesce(h.parent_hassle_ids, []) AS parent_hassle_ids,
    r.text
FROM comments AS c
JOIN comments_redacted AS r USING (comment_id)
LEFT JOIN comment_enrichment AS e USING (comment_id)
LEFT JOIN tags AS t ON t.subject_kind = 'comment' AND t.subject_id = c.comment_id
LEFT JOIN comment_hassles AS h USING (comment_id)
LEFT JOIN comment_pain_points AS p USING (comment_id)
WHERE c.customer_id IS NOT NULL
ORDER BY c.customer_id, step;
