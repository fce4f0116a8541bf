-- requires: raw.rejected
-- 013's decoding for the landed rejections: merge_rejected.sql copies every row not yet in
-- rejected by (source, file, ...), so an encoded name left here would be copied again.
UPDATE raw.rejected SET file = url_decode(file)
WHERE file LIKE '/%' AND contains(file, '%');
