-- Sources the warehouse holds comments of that the config no longer names (removed, or
-- renamed: then a configured source holds the same external ids). $1: the configured names.
SELECT
    old.source,
    count(*) AS comments,
    count(same.external_id) AS same_ids,
    coalesce(string_agg(DISTINCT same.source, ', ' ORDER BY same.source), '') AS same_ids_in
FROM comments AS old
LEFT JOIN comments AS same
    ON same.external_id = old.external_id AND list_contains($1::VARCHAR[], same.source)
WHERE NOT list_contains($1::VARCHAR[], old.source)
GROUP BY old.source
ORDER BY old.source
