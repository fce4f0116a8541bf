-- Copy quarantined records and repairs from raw.rejected into rejected.
-- Write behaviour: APPEND only what is not there yet, keyed on
-- (source, file, file_version, line, reason_code): each read of a file version is an event
-- worth keeping, and re-reading the same version (after a crash) must not double it: rows
-- whose key is already in rejected are ignored (OR IGNORE on its primary key).
-- Only rows of completed dlt loads: a pending or dropped package is not data yet.
INSERT OR IGNORE INTO rejected BY NAME
SELECT
    source,
    file,
    line,
    external_id,
    action,
    reason_code,
    reason,
    raw_text,
    file_version,
    rejected_at::TIMESTAMP AS rejected_at
FROM raw.rejected AS r
WHERE r._dlt_load_id IS NULL OR r._dlt_load_id IN (SELECT load_id FROM raw._dlt_loads WHERE status = 0)
QUALIFY row_number() OVER (
    PARTITION BY source, file, file_version, line, reason_code ORDER BY rejected_at
) = 1;
