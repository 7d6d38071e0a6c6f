-- Every visible change of a task is announced to every replica (LISTEN tsm_task), which pushes it
-- to its Server-Sent Events subscribers. Lease renewals do not touch updated_at: they stay quiet.
CREATE FUNCTION task_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tsm_task', NEW.id::text);
    RETURN NEW;
END
$$;

CREATE TRIGGER task_inserted AFTER INSERT ON task
    FOR EACH ROW EXECUTE FUNCTION task_notify();

CREATE TRIGGER task_changed AFTER UPDATE ON task
    FOR EACH ROW
    WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at OR OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION task_notify();
