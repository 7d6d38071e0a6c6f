-- When a pause or terminate was asked for: the pause latency metric measures from here.
ALTER TABLE task ADD COLUMN requested_at timestamptz;
