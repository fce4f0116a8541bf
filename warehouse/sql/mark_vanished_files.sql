-- One source's vanished files, replaced: the files of its landed records that its listing no
-- longer holds (the present list: every file it lists now, read or skipped).
DELETE FROM vanished_files WHERE source = $source;

INSERT INTO vanished_files
SELECT DISTINCT source, file
FROM raw.records
WHERE source = $source AND NOT list_contains($present, file);
