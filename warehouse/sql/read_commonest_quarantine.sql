-- The commonest reasons records were quarantined, per source: how many, and the first such
-- record's file, line and reason as an example. $1: how many reasons.
SELECT
    source,
    count(*) AS records,
    arg_min(file, (rejected_at, line)) AS file,
    arg_min(line, (rejected_at, line)) AS line,
    arg_min(reason, (rejected_at, line)) AS reason
FROM rejected
WHERE action = 'quarantined'
GROUP BY source, reason_code
ORDER BY records DESC, source, reason_code
LIMIT $1
