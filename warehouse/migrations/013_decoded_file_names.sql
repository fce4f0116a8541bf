-- A local file was named by its URL-encoded path ("my%20reviews.csv", "R%C3%BCckmeldung.csv");
-- it is now named by its path as its owner wrote it. Decode the names stored before. Only
-- local paths (they start with "/"): a remote file keeps its URL, as before. url_decode leaves
-- "+" alone, as a path needs.
UPDATE comments SET source_file = url_decode(source_file)
WHERE source_file LIKE '/%' AND contains(source_file, '%');

UPDATE rejected SET file = url_decode(file)
WHERE file LIKE '/%' AND contains(file, '%');
