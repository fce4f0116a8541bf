-- Alerts: which hassles have been announced as new or rising, so each is announced once.

-- One row per (hassle, state) already alerted. A hassle alerts once when it is new, and once
-- per rise: its 'rising' row is deleted when a later ranking no longer has it rising, so a
-- fresh rise alerts again. Merged on (hassle_id, state) (see warehouse/alerts.py).
CREATE TABLE alerts_sent (
    hassle_id VARCHAR   NOT NULL,  -- hassles.hassle_id
    state     VARCHAR   NOT NULL CHECK (state IN ('new', 'rising')),  -- what was announced
    run_id    VARCHAR   NOT NULL,  -- runs.run_id of the ranking that triggered the alert
    sent_at   TIMESTAMP NOT NULL,  -- when it was delivered (UTC)
    channel   VARCHAR   NOT NULL CHECK (channel IN ('webhook', 'prefect_block', 'log')),  -- how
    payload   JSON      NOT NULL,  -- the hassle's facts as announced: label, rank, score, ...
    PRIMARY KEY (hassle_id, state)
);
