-- A stated language with a region or script ("en-GB", "en_US") is now read by its language
-- ("en"); before, it was compared whole with enrich.supported_languages and such comments were
-- kept untagged as unsupported. Their enrichment is marked stale, so the next run enriches
-- and tags them again; no other comment is touched.
UPDATE comment_enrichment SET enrich_version = 'stale: language region'
WHERE comment_id IN (
    SELECT comment_id FROM comments WHERE language SIMILAR TO '.*[-_].*'
);
