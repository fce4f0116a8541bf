-- Forget a source the config no longer names (renamed, or retired): its comments and all
-- that was made of them, its landed records and rejected rows, and dlt's read state (so that
-- a source of that name added again reads its files anew). Hassles, memberships and rankings
-- of earlier runs are history and stay; the next run clusters and ranks without the source.
-- Bound: source, the source's name; pipeline, its dlt pipeline's name.
CREATE OR REPLACE TEMP TABLE forgotten_comments AS
SELECT comment_id FROM comments WHERE source = $source;

CREATE OR REPLACE TEMP TABLE forgotten_texts AS
SELECT text_hash FROM units SEMI JOIN forgotten_comments USING (comment_id)
UNION
SELECT text_hash FROM comment_enrichment SEMI JOIN forgotten_comments USING (comment_id);

DELETE FROM tags WHERE comment_id IN (SELECT comment_id FROM forgotten_comments);

DELETE FROM units WHERE comment_id IN (SELECT comment_id FROM forgotten_comments);

DELETE FROM comment_enrichment WHERE comment_id IN (SELECT comment_id FROM forgotten_comments);

DELETE FROM comments_redacted WHERE comment_id IN (SELECT comment_id FROM forgotten_comments);

DELETE FROM comments WHERE source = $source;

-- Their vectors, unless another comment holds the same text.
DELETE FROM embeddings
WHERE text_hash IN (SELECT text_hash FROM forgotten_texts)
    AND text_hash NOT IN (SELECT text_hash FROM units)
    AND text_hash NOT IN (SELECT text_hash FROM comment_enrichment);

DELETE FROM rejected WHERE source = $source;

DELETE FROM vanished_files WHERE source = $source;

DELETE FROM raw.records WHERE source = $source;

DELETE FROM raw.rejected WHERE source = $source;

DELETE FROM raw._dlt_pipeline_state WHERE pipeline_name = $pipeline;
