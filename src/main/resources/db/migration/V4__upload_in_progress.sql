-- An import can start while its file is still arriving. Until the upload ends, only the instance
-- receiving it can follow the growing file: it holds the upload under a lease it renews. Other
-- replicas leave the task alone while the lease holds; once it runs out, the upload is known lost.
ALTER TABLE task ADD COLUMN upload_owner text;
ALTER TABLE task ADD COLUMN upload_until timestamptz;
