-- Every row of the latest stored ranking (both levels, rank order within each), with its score
-- parts by factor: what hasslemap prints after a run. The latest ranking is v_latest_hassles'
-- (latest_ranking_run()).
WITH parts AS (
    SELECT hassle_id, map(list(factor ORDER BY factor), list(value ORDER BY factor)) AS parts
    FROM hassle_ranking_parts
    WHERE run_id = latest_ranking_run()
    GROUP BY hassle_id
)
SELECT r.* REPLACE (coalesce(r.level, 'child') AS level), coalesce(p.parts, MAP {}) AS parts
FROM hassle_rankings AS r
JOIN hassles AS h USING (hassle_id)
LEFT JOIN parts AS p USING (hassle_id)
WHERE r.run_id = latest_ranking_run()
ORDER BY r.level, r.rank
