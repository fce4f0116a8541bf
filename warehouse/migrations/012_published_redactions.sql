-- What the analyst snapshot published for each text it redacts (rejected reasons, hassle
-- labels and keyphrases, ranking labels, run errors): each distinct text meets the redactor
-- once, not at every snapshot. `rejected` grows with every overlapping export, and its reasons
-- (line numbers, paths) all reach Presidio's analyzer. A migration that changes what the
-- redactor finds must empty this table, as 006_privacy.sql emptied comments_redacted.
CREATE TABLE published_redactions (
    text     VARCHAR NOT NULL PRIMARY KEY,
    redacted VARCHAR NOT NULL
);
