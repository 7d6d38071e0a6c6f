-- Tasks live in PostgreSQL, so any replica can answer for any task.
CREATE TABLE task (
    id              uuid PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('IMPORT', 'EXPORT')),
    state           text        NOT NULL CHECK (state IN ('PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'TERMINATED')),
    -- A pause or terminate asked of a RUNNING task; the owner acts on it at the next batch boundary.
    requested_state text        CHECK (requested_state IN ('PAUSED', 'TERMINATED')),
    schema_name     text        NOT NULL,
    table_name      text        NOT NULL,
    options         jsonb       NOT NULL,
    -- The column plan (names and types) fixed when the task was created.
    columns         jsonb       NOT NULL,
    staging_table   text,
    file_name       text,
    file_sha256     text,
    bytes_total     bigint,
    rows_total      bigint,
    -- Checkpoint: written in the same transaction as the batch it acknowledges.
    rows_done       bigint      NOT NULL DEFAULT 0,
    rows_skipped    bigint      NOT NULL DEFAULT 0,
    bytes_done      bigint      NOT NULL DEFAULT 0,
    line            bigint      NOT NULL DEFAULT 1,
    last_key        text,
    error           text,
    -- Ownership: the instance running the task and how long its claim holds without renewal.
    owner           text,
    lease_until     timestamptz,
    -- Start of the current run, for rows/s and ETA.
    run_started_at  timestamptz,
    run_rows_start  bigint,
    run_bytes_start bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

CREATE INDEX task_created_idx ON task (created_at DESC);
CREATE INDEX task_claim_idx ON task (created_at) WHERE state IN ('PENDING', 'RUNNING');

-- Bad rows an import set aside under onError=skip; written with the batch they were found in.
CREATE TABLE task_reject (
    task_id uuid   NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    line    bigint NOT NULL,
    reason  text   NOT NULL,
    record  text   NOT NULL,
    PRIMARY KEY (task_id, line)
);
