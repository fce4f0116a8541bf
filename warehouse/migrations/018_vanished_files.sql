-- Files a source no longer holds (deleted, renamed, moved away), as its last whole listing saw
-- them. Their records stay in raw.records (what was received is kept) and a comment only they
-- hold stays loaded, but they never outrank a file still there for an id, and a record of
-- theirs that loses to one is not counted as lost (warehouse/sql/merge_comments.sql).
CREATE TABLE vanished_files (
    source VARCHAR NOT NULL,
    file   VARCHAR NOT NULL,
    PRIMARY KEY (source, file)
);
