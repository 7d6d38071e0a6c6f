-- Idempotency-Key (IETF httpapi draft) on the requests that create tasks: per caller (subject),
-- the key, a fingerprint of the request it came with, and what it created. A row without task_id
-- is a request still in flight; the primary key makes one of two racing first requests win.
-- Rows older than tsm.idempotency.key-ttl act as absent and are deleted by the retention sweep.
CREATE TABLE idempotency_key (
    subject      text        NOT NULL,
    key          text        NOT NULL,
    fingerprint  text        NOT NULL,
    task_id      uuid        REFERENCES task (id) ON DELETE CASCADE,
    -- What the creation answered in Location: /tasks/{id}, or /uploads/{id} for a tus upload.
    location     text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, key)
);
CREATE INDEX idempotency_key_created_idx ON idempotency_key (created_at);
