-- Each visible change of a task counts: version goes up by one in the UPDATE that makes it, so
-- every replica reads the same number for the same state. The Server-Sent Events use it as the
-- event id (a client reconnecting with Last-Event-ID is sent only what is newer). Renewing a lease
-- or a hold changes nothing a client sees: no new version, no announcement.
ALTER TABLE task ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION task_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF to_jsonb(NEW) - 'lease_until' - 'held_until' - 'version'
           IS DISTINCT FROM to_jsonb(OLD) - 'lease_until' - 'held_until' - 'version' THEN
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER task_versioned BEFORE UPDATE ON task
    FOR EACH ROW EXECUTE FUNCTION task_version();

-- A change is announced exactly when it is a new version (before: when the state or updated_at
-- changed, which missed the few updates that leave updated_at alone).
DROP TRIGGER task_changed ON task;
CREATE TRIGGER task_changed AFTER UPDATE ON task
    FOR EACH ROW
    WHEN (OLD.version IS DISTINCT FROM NEW.version)
    EXECUTE FUNCTION task_notify();
