-- Resumable uploads (tus 1.0): the bytes of a file arrive in any number of requests, at any
-- replica. The offset is kept here and moves by compare-and-set, so two requests racing on one
-- upload cannot both write; a request writing holds the upload under a short lease it renews.
CREATE TABLE upload (
    id          uuid PRIMARY KEY,
    task_id     uuid        NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    created_by  text,
    -- The declared length, null until the client says it (creation-defer-length).
    length      bigint,
    -- Bytes received as sent (compressed ones for a gzip file) and, of a gzip file, the bytes they
    -- decompressed to: what the import may read.
    received    bigint      NOT NULL DEFAULT 0,
    plain       bigint      NOT NULL DEFAULT 0,
    gzip        boolean     NOT NULL DEFAULT false,
    metadata    text,
    expires_at  timestamptz,
    -- Null while bytes may come; why no more will otherwise.
    ended       text        CHECK (ended IN ('COMPLETE', 'TERMINATED', 'EXPIRED')),
    writer      text,
    writer_until timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_task_idx ON upload (task_id);
CREATE INDEX upload_expiry_idx ON upload (expires_at) WHERE ended IS NULL;

-- The task an upload feeds shows what has arrived beside what is loaded. A run that read all there
-- is hands the task back with the length it had read (parked_at): no runner takes it again until
-- more has arrived or the upload is complete.
ALTER TABLE task ADD COLUMN upload_id uuid;
ALTER TABLE task ADD COLUMN upload_received bigint;
ALTER TABLE task ADD COLUMN upload_length bigint;
ALTER TABLE task ADD COLUMN upload_plain bigint;
ALTER TABLE task ADD COLUMN upload_complete boolean;
ALTER TABLE task ADD COLUMN upload_parked_at bigint;
ALTER TABLE task ADD COLUMN upload_expires_at timestamptz;
