"""Tables of an ingested run, the same whatever format the run came from.

`samples` has one row per sampled completion; `row_idx` is dense (0..n-1, in ingest order) and
joins `rewards` (one row per sample and reward component) and `grader_inputs` (the exact text a
grader received). `source_file` and `source_row` (1-based line or row number) record where each
sample came from; `reward_total_logged` is false where the total was derived at ingest.
`deployments` lists the config commits live from each step on, and
`config_weights` the reward weights live with each of those commits (configured, given by the
run overlay, or fitted at ingest; commit "" holds those of steps no deployment covers).
`run_info` holds key/value facts about the ingest as JSON. (The Arrow schemas of the batches
appended to them are in `records`: pyarrow is not loaded to read a stored run.)
"""

from __future__ import annotations

SCHEMA_VERSION = 3

#: Steps are stored as signed 64-bit integers.
MAX_STEP = 2**63 - 1

#: Text columns of `samples` that a behaviour can be matched on or a slice drawn from.
TEXT_COLUMNS = ("prompt", "reasoning", "completion", "reference")

SAMPLES_DDL = """
CREATE TABLE {name} (
    row_idx BIGINT NOT NULL,
    sample_id VARCHAR,
    step BIGINT NOT NULL,
    group_id VARCHAR,
    split VARCHAR,
    data_source VARCHAR,
    persona VARCHAR,
    env VARCHAR,
    prompt VARCHAR,
    reasoning VARCHAR,
    completion VARCHAR NOT NULL,
    reference VARCHAR,
    reward_total DOUBLE,
    advantage DOUBLE,
    meta JSON,
    extras JSON,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    reward_total_logged BOOLEAN
)
"""

OTHER_DDL = (
    "CREATE TABLE rewards (row_idx BIGINT NOT NULL, component VARCHAR NOT NULL, value DOUBLE)",
    "CREATE TABLE grader_inputs (row_idx BIGINT NOT NULL, component VARCHAR NOT NULL, "
    "text VARCHAR)",
    "CREATE TABLE deployments (step BIGINT NOT NULL, commit VARCHAR NOT NULL, message VARCHAR, "
    "author VARCHAR, committed_at VARCHAR)",
    "CREATE TABLE metrics (step BIGINT NOT NULL, name VARCHAR NOT NULL, value DOUBLE)",
    "CREATE TABLE config_weights (commit VARCHAR NOT NULL, component VARCHAR NOT NULL, "
    "weight DOUBLE NOT NULL)",
    "CREATE TABLE run_info (key VARCHAR PRIMARY KEY, value JSON)",
)
