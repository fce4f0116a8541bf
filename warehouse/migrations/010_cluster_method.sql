-- Cluster methods chosen by name (cluster.method; nlp/cluster.py keeps the registry). A method's
-- own parameters live in cluster_runs.params (JSON: the method, its parameters and the stage's
-- settings), not in columns: min_cluster_size is HDBSCAN's and stays NULL for a method without
-- one. fitted_on and units_core keep their meaning for every method (rows the method was fitted
-- on; units it placed itself rather than by the neighbour vote).
ALTER TABLE cluster_runs ALTER COLUMN min_cluster_size DROP NOT NULL;
