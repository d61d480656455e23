-- A user whose password was handed out (the first admin's one-time
-- password) must choose their own before using the desk.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
