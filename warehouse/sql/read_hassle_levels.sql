-- Each hassle of one clustering (bound: its run_id) with its level, its parent (children) and
-- its specificity, as that clustering saw them. A warehouse from before two-level hassles reads
-- every hassle as a child without a parent.
SELECT
    hassle_id,
    coalesce(level, 'child') AS level,
    parent_id,
    specificity
FROM hassle_runs
WHERE run_id = ?
ORDER BY hassle_id
