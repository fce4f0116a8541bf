-- Daily mentions of each hassle in the latest clustering's window: comments and customers a day,
-- for every specific hassle (level 'child') and every parent (level 'parent'). A parent counts
-- the comments of the children it is ranked on, each comment once a day however many of them it
-- mentions: its specific children only when it has one, all its children when every one is too
-- unspecific to act on (the latest ranking's `generic`), so that a parent's days add up to its
-- `comments` in v_latest_parent_hassles. The rule is nlp.rank.rank_levels'; the rankings do not
-- store which children a parent was ranked on, so it is restated here (ranked_on), and
-- tests/warehouse/test_example_queries.py holds the two to the same totals.
CREATE OR REPLACE VIEW v_hassle_trend AS
WITH latest AS (
    SELECT run_id FROM cluster_runs ORDER BY clustered_at DESC, run_id DESC LIMIT 1
),
child_mentions AS (
    SELECT DISTINCT m.hassle_id, u.comment_id
    FROM hassle_members AS m
    SEMI JOIN latest USING (run_id)
    JOIN units AS u USING (unit_id)
),
generic_children AS (
    SELECT hassle_id
    FROM hassle_rankings
    WHERE run_id = latest_ranking_run()
        AND coalesce(level, 'child') = 'child'
        AND generic
),
parent_of AS (
    SELECT hassle_id, parent_id, hassle_id IN (SELECT hassle_id FROM generic_children) AS generic
    FROM hassle_runs
    SEMI JOIN latest USING (run_id)
    WHERE parent_id IS NOT NULL
),
ranked_on AS (
    SELECT hassle_id, parent_id
    FROM parent_of
    WHERE NOT generic OR parent_id NOT IN (SELECT parent_id FROM parent_of WHERE NOT generic)
),
mentions AS (
    SELECT hassle_id, comment_id FROM child_mentions
    UNION
    SELECT p.parent_id AS hassle_id, m.comment_id
    FROM child_mentions AS m
    JOIN ranked_on AS p USING (hassle_id)
)
SELECT
    m.hassle_id,
    h.label,
    coalesce(h.level, 'child') AS level,
    c.created_at::DATE AS day,
    count(*) AS comments,
    count(DISTINCT coalesce(c.customer_id, c.comment_id)) AS customers
FROM mentions AS m
JOIN comments AS c USING (comment_id)
JOIN hassles AS h USING (hassle_id)
GROUP BY ALL
ORDER BY m.hassle_id, day;
