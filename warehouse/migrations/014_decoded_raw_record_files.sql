-- requires: raw.records
-- 013's decoding for the landed records, so that a file read again after the upgrade is the
-- same file to merge_comments.sql as its earlier reads (it keeps one load per file name).
UPDATE raw.records SET file = url_decode(file)
WHERE file LIKE '/%' AND contains(file, '%');
