-- What a window's comments hold, to say why a report filter matches none of them: their first
-- and last date, channels and products, and how many the filter matches. Bound: $1 .. $4 the
-- report filter as in read_mentions.sql, $5 and $6 the window (start exclusive).
SELECT min(c.created_at), max(c.created_at),
       list_sort(list(DISTINCT c.channel)),
       list_sort(list(DISTINCT c.product) FILTER (c.product IS NOT NULL)),
       count(*) FILTER (
           ($1::TIMESTAMP IS NULL OR c.created_at >= $1::TIMESTAMP)
           AND ($2::TIMESTAMP IS NULL OR c.created_at < $2::TIMESTAMP)
           AND ($3::VARCHAR[] IS NULL OR list_contains($3::VARCHAR[], c.channel))
           AND ($4::VARCHAR[] IS NULL OR list_contains($4::VARCHAR[], c.product))
       )
FROM comments AS c
WHERE c.created_at > $5 AND c.created_at <= $6
