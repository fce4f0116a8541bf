-- Rank and publish: the ranking of each run, and redacted comment text for everything published.

-- The ranked hassles of each run, every score component stored beside the total.
CREATE TABLE hassle_rankings (
    run_id           VARCHAR   NOT NULL,  -- runs.run_id
    rank             INTEGER   NOT NULL,  -- 1 = eliminate first
    hassle_id        VARCHAR   NOT NULL,
    label            VARCHAR   NOT NULL,
    stage            VARCHAR,
    theme            VARCHAR,
    generic          BOOLEAN   NOT NULL,  -- too unspecific to act on: ranked after the others
    total_score      DOUBLE    NOT NULL,  -- 0..1: the weighted sum of the parts below
    reach_score      DOUBLE,              -- each part 0..1, NULL when it had no data
    severity_score   DOUBLE,
    trend_score      DOUBLE,
    spread_score     DOUBLE,
    repeat_score     DOUBLE,
    value_score      DOUBLE,
    impact_score     DOUBLE,
    weights          JSON      NOT NULL,  -- {"reach": 0.3, ...}: the weights used (sum 1)
    customers        INTEGER   NOT NULL,  -- distinct customers who raised it
    comments         INTEGER   NOT NULL,
    severity_mean    DOUBLE    NOT NULL,
    severity_p90     DOUBLE    NOT NULL,
    trend            VARCHAR   NOT NULL,  -- both windows in one word: rising / falling / steady / new
    trend_7d         VARCHAR   NOT NULL,  -- rising / falling / steady / new (significance-guarded)
    trend_7d_ratio   DOUBLE,              -- mentions per day, last 7 days vs the 28 before
    trend_7d_p       DOUBLE,
    trend_30d        VARCHAR   NOT NULL,
    trend_30d_ratio  DOUBLE,
    trend_30d_p      DOUBLE,
    channels         JSON      NOT NULL,  -- {"review": 12, "ticket": 30, "survey": 4}
    channel_count    INTEGER   NOT NULL,
    repeat_customers INTEGER   NOT NULL,  -- raised it more than once, or in more than one channel
    value_at_risk    DOUBLE,              -- sum of customer_value over its customers
    nps_impact       DOUBLE,              -- NPS points gained without its comments
    csat_impact      DOUBLE,              -- CSAT % points gained without its comments
    change           VARCHAR   NOT NULL,  -- since the previous ranking: new (not in it), else the trend
    example_unit_ids VARCHAR[] NOT NULL,
    ranked_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, hassle_id)
);

-- Comment text with emails, phone numbers and card numbers redacted: what views and the
-- report show. Kept in step with comments.content_hash.
CREATE TABLE comments_redacted (
    comment_id   VARCHAR NOT NULL PRIMARY KEY,
    content_hash VARCHAR NOT NULL,
    text         VARCHAR NOT NULL
);
