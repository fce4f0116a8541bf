-- Representative quotes of each live hassle, PII-redacted: the sentence and its whole comment.
-- Both levels: a specific hassle's quotes (level 'child', with its parent_id) and a parent's
-- (level 'parent'), which the clustering picks among its children's sentences.
CREATE OR REPLACE VIEW v_hassle_examples AS
WITH quotes AS (
    SELECT h.hassle_id, h.label, coalesce(h.level, 'child') AS level, h.parent_id, q.unit_id,
           q.position AS quote_rank
    FROM hassles AS h, unnest(h.quote_unit_ids) WITH ORDINALITY AS q(unit_id, position)
    WHERE h.status <> 'retired'
)
SELECT
    q.hassle_id,
    q.label,
    q.level,
    q.parent_id,
    q.quote_rank,
    q.unit_id,
    c.comment_id,
    c.channel,
    c.product,
    c.created_at,
    u.severity,
    r.text AS comment_text
FROM quotes AS q
JOIN units AS u USING (unit_id)
JOIN comments AS c ON c.comment_id = u.comment_id
JOIN comments_redacted AS r ON r.comment_id = c.comment_id
ORDER BY q.hassle_id, q.quote_rank;
