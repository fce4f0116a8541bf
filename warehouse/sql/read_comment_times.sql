-- When every comment in a window was written, and from which source, whatever it mentions: the
-- comments' volume the trends compare a hassle's mentions with, source by source. Bound: $1
-- .. $4 the report filter as in read_mentions.sql, $5 and $6 the window (start exclusive, end
-- inclusive).
SELECT c.source, c.created_at
FROM comments AS c
WHERE c.created_at > $5 AND c.created_at <= $6
  AND ($1::TIMESTAMP IS NULL OR c.created_at >= $1::TIMESTAMP)
  AND ($2::TIMESTAMP IS NULL OR c.created_at < $2::TIMESTAMP)
  AND ($3::VARCHAR[] IS NULL OR list_contains($3::VARCHAR[], c.channel))
  AND ($4::VARCHAR[] IS NULL OR list_contains($4::VARCHAR[], c.product))
ORDER BY c.source, c.created_at
