-- E-mail in and out. One row per message kesu received or sent, keyed by
-- its Message-ID (without angle brackets; a received mail without one is
-- keyed by the SHA-256 of its bytes, `raw-sha256:<hex>`), so the same mail
-- delivered twice is filed once and replies thread by In-Reply-To and
-- References. `direction` is `in` or `out`; `outcome` says what the mail
-- became: for `in` new_complaint, added, ignored_auto_reply, ignored_bounce,
-- ignored_bulk or refused; for `out` auto_reply or staff_reply.
CREATE TABLE mail_messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL,
    outcome TEXT NOT NULL,
    complaint_id BIGINT REFERENCES complaints(id),
    address TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX mail_messages_complaint ON mail_messages (complaint_id, at);

-- An outbox e-mail's own Message-ID (chosen when it is queued, so it can be
-- recorded above in the same transaction) and its thread headers;
-- `auto_submitted` marks kesu's automatic answers (RFC 3834).
ALTER TABLE outbox ADD COLUMN message_id TEXT;
ALTER TABLE outbox ADD COLUMN in_reply_to TEXT;
ALTER TABLE outbox ADD COLUMN refs TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN auto_submitted BOOLEAN NOT NULL DEFAULT FALSE;
