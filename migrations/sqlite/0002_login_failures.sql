-- Failed logins, counted per username to slow down password guessing on
-- every node alike. Old rows are removed as they age out of the window.
CREATE TABLE login_failures (
    username TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, at);
