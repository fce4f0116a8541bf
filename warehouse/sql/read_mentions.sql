-- One row per (hassle, comment) of one clustering, for the ranker: the comment's highest unit
-- severity in the hassle. Bound: $1 since, $2 until (timestamps or NULL), $3 channels,
-- $4 products, $5 stages (lists or NULL: no filter), $6 the clustering's run_id.
-- customer_value is the customer's: the highest any of their comments up to $2 carries (a
-- review's writer is valued by their tickets); an anonymous comment's own.
WITH customer_values AS (
    SELECT customer_id, max(customer_value) AS customer_value
    FROM comments
    WHERE customer_id IS NOT NULL AND customer_value IS NOT NULL
      AND ($2::TIMESTAMP IS NULL OR created_at < $2::TIMESTAMP)
    GROUP BY customer_id
)
SELECT m.hassle_id, c.comment_id, c.customer_id, c.channel, c.created_at,
       max(u.severity) AS severity, c.score, c.score_kind,
       coalesce(v.customer_value, c.customer_value) AS customer_value, c.source
FROM hassle_members AS m
JOIN units AS u USING (unit_id)
JOIN comments AS c ON c.comment_id = u.comment_id
JOIN hassles AS h ON h.hassle_id = m.hassle_id
LEFT JOIN customer_values AS v ON v.customer_id = c.customer_id
WHERE m.run_id = $6
  AND ($1::TIMESTAMP IS NULL OR c.created_at >= $1::TIMESTAMP)
  AND ($2::TIMESTAMP IS NULL OR c.created_at < $2::TIMESTAMP)
  AND ($3::VARCHAR[] IS NULL OR list_contains($3::VARCHAR[], c.channel))
  AND ($4::VARCHAR[] IS NULL OR list_contains($4::VARCHAR[], c.product))
  AND ($5::VARCHAR[] IS NULL OR list_contains($5::VARCHAR[], h.stage))
GROUP BY ALL
ORDER BY m.hassle_id, c.comment_id
