-- When the file of a COMPLETED export was deleted under tsm.retention.export-files: its download
-- then answers 410 Gone, saying when.
ALTER TABLE task ADD COLUMN file_expired_at timestamptz;

-- What the retention sweep looks for.
CREATE INDEX task_failed_idx ON task (updated_at) WHERE state = 'FAILED';
CREATE INDEX task_export_file_idx ON task (finished_at)
    WHERE kind = 'EXPORT' AND state = 'COMPLETED' AND file_expired_at IS NULL;
