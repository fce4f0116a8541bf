-- Pain-point comments in a window, for the report's heatmap: per (stage, theme) cell, per stage,
-- per theme and overall, each a count of distinct comments (a comment with pain points in two
-- cells counts once in their row's, column's and the overall total). `grouped` says which:
-- 0 a cell, 1 a stage's total, 2 a theme's total, 3 the overall total. Bound: $1 .. $4 the
-- report filter as in read_mentions.sql, $5 and $6 the window (start exclusive).
SELECT t.stage, t.theme, grouping(t.stage, t.theme) AS grouped,
       count(DISTINCT u.comment_id) AS comments
FROM tags AS t
JOIN units AS u ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id
JOIN comments AS c ON c.comment_id = u.comment_id
WHERE t.is_pain_point AND c.created_at > $5 AND c.created_at <= $6
  AND ($1::TIMESTAMP IS NULL OR c.created_at >= $1::TIMESTAMP)
  AND ($2::TIMESTAMP IS NULL OR c.created_at < $2::TIMESTAMP)
  AND ($3::VARCHAR[] IS NULL OR list_contains($3::VARCHAR[], c.channel))
  AND ($4::VARCHAR[] IS NULL OR list_contains($4::VARCHAR[], c.product))
GROUP BY GROUPING SETS ((t.stage, t.theme), (t.stage), (t.theme), ())
