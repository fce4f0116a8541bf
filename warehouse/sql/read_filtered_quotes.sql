-- A filtered report's quotes: per hassle (a child, or a parent through its children), up to $7
-- member sentences from comments that match the filter, one per comment: the hassle's stored
-- quotes first, in their order, then the sentences the pain filter is surest of. Bound: $1 ..
-- $4 the report filter as in read_mentions.sql, $5 the clustering's run_id, $6 the hassle ids.
WITH matching AS (
    SELECT m.hassle_id, h.parent_id, m.unit_id, u.comment_id, t.pain_score
    FROM hassle_members AS m
    JOIN hassles AS h ON h.hassle_id = m.hassle_id
    JOIN units AS u ON u.unit_id = m.unit_id
    JOIN comments AS c ON c.comment_id = u.comment_id
    LEFT JOIN tags AS t ON t.subject_kind = 'unit' AND t.subject_id = m.unit_id
    WHERE m.run_id = $5
      AND ($1::TIMESTAMP IS NULL OR c.created_at >= $1::TIMESTAMP)
      AND ($2::TIMESTAMP IS NULL OR c.created_at < $2::TIMESTAMP)
      AND ($3::VARCHAR[] IS NULL OR list_contains($3::VARCHAR[], c.channel))
      AND ($4::VARCHAR[] IS NULL OR list_contains($4::VARCHAR[], c.product))
),
members AS (
    SELECT hassle_id, unit_id, comment_id, pain_score FROM matching
    UNION ALL
    SELECT parent_id, unit_id, comment_id, pain_score FROM matching WHERE parent_id IS NOT NULL
),
one_per_comment AS (
    SELECT s.hassle_id, s.unit_id, s.pain_score,
           coalesce(list_position(h.quote_unit_ids, s.unit_id), 2147483647) AS stored
    FROM members AS s
    JOIN hassles AS h ON h.hassle_id = s.hassle_id
    WHERE list_contains($6::VARCHAR[], s.hassle_id)
    QUALIFY row_number() OVER (
        PARTITION BY s.hassle_id, s.comment_id ORDER BY stored, s.pain_score DESC NULLS LAST, s.unit_id
    ) = 1
)
SELECT hassle_id, unit_id
FROM one_per_comment
QUALIFY row_number() OVER (
    PARTITION BY hassle_id ORDER BY stored, pain_score DESC NULLS LAST, unit_id
) <= $7
ORDER BY hassle_id, stored, pain_score DESC NULLS LAST, unit_id
