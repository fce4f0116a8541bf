-- Every row of the latest stored ranking (both levels, rank order within each), with its score
-- parts by factor: what hasslemap prints after a run. The latest ranking is the one ranked last,
-- as in v_latest_hassles.
WITH latest AS (
    SELECT run_id FROM hassle_rankings ORDER BY ranked_at DESC, run_id DESC LIMIT 1
),
parts AS (
    SELECT hassle_id, map(list(factor ORDER BY factor), list(value ORDER BY factor)) AS parts
    FROM hassle_ranking_parts
    WHERE run_id = (SELECT run_id FROM latest)
    GROUP BY hassle_id
)
SELECT r.* REPLACE (coalesce(r.level, 'child') AS level), coalesce(p.parts, MAP {}) AS parts
FROM hassle_rankings AS r
JOIN hassles AS h USING (hassle_id)
LEFT JOIN parts AS p USING (hassle_id)
WHERE r.run_id = (SELECT run_id FROM latest)
ORDER BY r.level, r.rank
