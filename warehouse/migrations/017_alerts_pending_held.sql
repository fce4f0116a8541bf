-- An alert alerts.max_per_run held back has not failed: its alerts_pending row has no
-- failed_at (NULL until a delivery fails), and attempts counts only deliveries tried.
ALTER TABLE alerts_pending ALTER COLUMN failed_at DROP NOT NULL;
