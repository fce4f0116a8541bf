-- Each kept redaction records the redactor that made it (nlp.redact.redactor_version: a hash
-- of its code, word and name lists and Presidio's version). A text redacted by another
-- redactor is redacted again on the next run, so an upgrade that finds more PII reaches the
-- views, the report and the snapshot without a migration per change. Rows kept before this
-- have none, and are redacted again.
ALTER TABLE comments_redacted ADD COLUMN redactor VARCHAR;
ALTER TABLE published_redactions ADD COLUMN redactor VARCHAR;
