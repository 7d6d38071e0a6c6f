-- When the file of a COMPLETED export was deleted under tsm.retention.export-files: its download
-- then answers 410 Gone, saying when.
ALTER TABLE task ADD COLUMN file_expired_at timestamptz;

-- What the retention sweep looks for.
CREATE INDEX task_failed_idx ON task (updated_at) WHERE state = 'FAILED';
CREATE INDEX task_export_file_idx ON task (finished_at)
    WHERE kind = 'EXPORT' AND state = 'COMPLETED' AND file_expired_at IS NULL;

-- Takeovers after the owning instance stopped without handing the task back (killed, out of memory,
-- cut off past its lease). Past tsm.runner.max-crashes the task is FAILED instead of taken over
-- again; a resume starts the count afresh.
ALTER TABLE task ADD COLUMN crashes integer NOT NULL DEFAULT 0;
