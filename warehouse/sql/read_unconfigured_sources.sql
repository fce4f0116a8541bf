-- Sources the warehouse holds comments of that the config no longer names (removed, or
-- renamed: then a configured source holds the same records, id and content). $1: the
-- configured names.
SELECT
    old.source,
    count(DISTINCT old.comment_id) AS comments,
    count(DISTINCT old.comment_id) FILTER (WHERE same.comment_id IS NOT NULL) AS same_records,
    coalesce(string_agg(DISTINCT same.source, ', ' ORDER BY same.source), '') AS same_records_in
FROM comments AS old
LEFT JOIN comments AS same
    ON same.external_id = old.external_id
    AND same.content_hash = old.content_hash
    AND list_contains($1::VARCHAR[], same.source)
WHERE NOT list_contains($1::VARCHAR[], old.source)
GROUP BY old.source
ORDER BY old.source
