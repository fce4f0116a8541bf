-- The run of the ranking the analyst views show as the latest: the last ranking of a run that
-- did not fail (a failed run's ranking never counts, as for `change`), unless a later
-- clustering found no hassle (a window that slid past every complaint): then nothing is ranked
-- now, and yesterday's top is not today's, and it is NULL.
-- Usage: SELECT * FROM hassle_rankings WHERE run_id = latest_ranking_run()
CREATE OR REPLACE MACRO latest_ranking_run() AS (
    SELECT run_id FROM hassle_rankings AS r
    WHERE NOT EXISTS (
        SELECT 1 FROM cluster_runs AS c WHERE c.hassles = 0 AND c.clustered_at > r.ranked_at
    )
        AND NOT EXISTS (
            SELECT 1 FROM runs AS f WHERE f.run_id = r.run_id AND f.status = 'failed'
        )
    ORDER BY ranked_at DESC, run_id DESC LIMIT 1
);
