-- Counts for the report's coverage and quality figures: a window's comments, their customers
-- and sentences, filtered. Bound: $1 .. $4 the report filter as in read_mentions.sql, $5 and
-- $6 the window (start exclusive).
WITH c AS (
    SELECT c.comment_id, c.customer_id FROM comments AS c
    WHERE c.created_at > $5 AND c.created_at <= $6
      AND ($1::TIMESTAMP IS NULL OR c.created_at >= $1::TIMESTAMP)
      AND ($2::TIMESTAMP IS NULL OR c.created_at < $2::TIMESTAMP)
      AND ($3::VARCHAR[] IS NULL OR list_contains($3::VARCHAR[], c.channel))
      AND ($4::VARCHAR[] IS NULL OR list_contains($4::VARCHAR[], c.product))
),
t AS (
    SELECT t.is_pain_point, t.stage, t.method
    FROM tags AS t JOIN units AS u ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id
    JOIN c ON c.comment_id = u.comment_id
)
-- A comment without a customer id is a customer of its own, as the hassles count them.
SELECT (SELECT count(*) FROM c),
       (SELECT count(DISTINCT customer_id) + count(*) FILTER (customer_id IS NULL) FROM c),
       count(*), count(*) FILTER (t.is_pain_point),
       count(*) FILTER (t.is_pain_point AND t.stage = 'unassigned'),
       count(*) FILTER (t.method = 'unsupported_language')
FROM t
