-- Alerts that were due but that no channel accepted (a webhook down, a block missing): kept
-- here, not in alerts_sent, so the next run sends them again even once the hassle is no
-- longer new. A row leaves when its alert is delivered (see warehouse/alerts.py).
CREATE TABLE alerts_pending (
    hassle_id VARCHAR   NOT NULL,  -- hassles.hassle_id
    state     VARCHAR   NOT NULL CHECK (state IN ('new', 'rising')),  -- what is to be announced
    run_id    VARCHAR   NOT NULL,  -- runs.run_id of the ranking that first made it due
    failed_at TIMESTAMP NOT NULL,  -- the last failed delivery (UTC)
    attempts  INTEGER   NOT NULL,  -- failed deliveries so far (a run retries the task twice)
    error     VARCHAR   NOT NULL,  -- why the last delivery failed
    PRIMARY KEY (hassle_id, state)
);
