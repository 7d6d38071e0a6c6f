-- A pause or terminate asked of a running task is announced at once on its own channel, with the
-- state asked, so the instance running it stops within milliseconds instead of at its next
-- checkpoint (which, for a batch of long rows, can be a second away).
CREATE FUNCTION task_stop_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tsm_stop', NEW.id::text || ' ' || NEW.requested_state);
    RETURN NEW;
END
$$;

CREATE TRIGGER task_stop_asked AFTER UPDATE ON task
    FOR EACH ROW
    WHEN (NEW.state = 'RUNNING' AND NEW.requested_state IS NOT NULL
          AND OLD.requested_state IS DISTINCT FROM NEW.requested_state)
    EXECUTE FUNCTION task_stop_notify();
