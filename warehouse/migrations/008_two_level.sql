-- Two-level hassles (issue 12): specific hassles ("children", ids H-0001) grouped under parent
-- hassles (ids P-0001) that a product owner reads first. hassle_members stays the leaf
-- membership: a unit belongs to a child, and through it to the child's parent.

-- level: 'child' (a specific hassle, clustered from units) or 'parent' (a group of children).
-- parent_id: a child's parent in the run that last saw it; NULL on parents.
-- specificity: 0..1, how specific the hassle's sentences are (one problem, told concretely);
-- a hassle below rank.min_specificity is too unspecific to act on (nlp/label.py explains it).
ALTER TABLE hassles ADD COLUMN level VARCHAR DEFAULT 'child';
ALTER TABLE hassles ADD COLUMN parent_id VARCHAR;
ALTER TABLE hassles ADD COLUMN specificity DOUBLE;

ALTER TABLE hassle_runs ADD COLUMN level VARCHAR DEFAULT 'child';
ALTER TABLE hassle_runs ADD COLUMN parent_id VARCHAR;
ALTER TABLE hassle_runs ADD COLUMN specificity DOUBLE;

-- Parents and children are ranked separately: rank is the position within the level.
ALTER TABLE hassle_rankings ADD COLUMN level VARCHAR DEFAULT 'child';
ALTER TABLE hassle_rankings ADD COLUMN parent_id VARCHAR;
ALTER TABLE hassle_rankings ADD COLUMN specificity DOUBLE;

-- How each clustering ran (flows/cluster.py explains the modes).
-- mode: 'full' (HDBSCAN on the whole window, ids tracked) or 'incremental' (last night's
-- members kept, new units voted in, new children found only among the leftovers).
-- full_run_id: the full clustering this run builds on (its own run_id when full).
-- parents: parent hassles found; hassles_revived: retired ids that came back this run.
ALTER TABLE cluster_runs ADD COLUMN mode VARCHAR DEFAULT 'full';
ALTER TABLE cluster_runs ADD COLUMN full_run_id VARCHAR;
ALTER TABLE cluster_runs ADD COLUMN parents INTEGER DEFAULT 0;
ALTER TABLE cluster_runs ADD COLUMN hassles_revived INTEGER DEFAULT 0;
