-- Completion callbacks: the outbox. A task that names a callback URL (options.callback, the
-- request's or the deployment's default) gets one row here per final state it enters, written by
-- the trigger below in the same transaction as the state change, whichever path ends the task:
-- a task cannot end without its callback being due, nor a callback be due for an end rolled back.
-- Every replica delivers due rows (claimed with FOR UPDATE SKIP LOCKED under a short lease).
CREATE TABLE callback (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id      uuid        NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    state        text        NOT NULL CHECK (state IN ('COMPLETED', 'FAILED', 'TERMINATED')),
    url          text        NOT NULL,
    -- The task row as it was when it entered the state; the body is made from it at the first
    -- attempt and kept, so that every attempt sends the same bytes.
    snapshot     jsonb       NOT NULL,
    body         text,
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     integer     NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL DEFAULT now(),
    -- An attempt in flight: no other replica takes the row before this passes.
    lease_until  timestamptz,
    last_status  integer,
    last_error   text,
    delivered_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (task_id, state)
);
CREATE INDEX callback_due_idx ON callback (next_at) WHERE status = 'pending';

CREATE FUNCTION callback_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state IS DISTINCT FROM NEW.state THEN
        INSERT INTO tsm.callback (task_id, state, url, snapshot)
        VALUES (NEW.id, NEW.state, NEW.options ->> 'callback', to_jsonb(NEW))
        ON CONFLICT (task_id, state) DO NOTHING;
    ELSE
        -- Written with the end in the same transaction (the command that ended it, say): the body
        -- shows it, unless the first attempt already fixed the body.
        UPDATE tsm.callback SET snapshot = to_jsonb(NEW)
        WHERE task_id = NEW.id AND state = NEW.state AND body IS NULL;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_callback AFTER UPDATE ON task
    FOR EACH ROW
    WHEN (NEW.state IN ('COMPLETED', 'FAILED', 'TERMINATED') AND NEW.options ? 'callback')
    EXECUTE FUNCTION callback_due();
