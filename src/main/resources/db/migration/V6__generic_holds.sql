-- A task held by one instance, which alone may run it until the hold runs out: the task core knows
-- holds, not why they are taken (an import whose file is still arriving at that instance).
ALTER TABLE task RENAME COLUMN upload_owner TO held_by;
ALTER TABLE task RENAME COLUMN upload_until TO held_until;
