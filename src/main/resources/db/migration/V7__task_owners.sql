-- Who a task belongs to (the subject of the caller that created it: only they and the
-- administrators see it) and who gave it its last command. Tasks from before have no owner:
-- administrators alone see them.
ALTER TABLE task ADD COLUMN created_by text;
ALTER TABLE task ADD COLUMN last_command text;
ALTER TABLE task ADD COLUMN last_command_by text;
ALTER TABLE task ADD COLUMN last_command_at timestamptz;
-- The per-owner bound counts an owner's active tasks at every create.
CREATE INDEX task_active_by_owner ON task (created_by) WHERE state IN ('PENDING', 'RUNNING');
