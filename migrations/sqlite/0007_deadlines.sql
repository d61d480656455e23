-- Deadlines (R-IN-5/6, R-CL-3/4, R-HD-1/3/4/11/12, R-FB-2), staff
-- notifications (R-NT-2) and the duty roster (R-OR-3).

-- A site's working calendar (kesu-calendar's CalendarSettings as JSON;
-- NULL: Asia/Shanghai, Monday to Friday 09:00-18:00, China's holidays).
ALTER TABLE sites ADD COLUMN calendar TEXT;
-- Where a person's notices go by e-mail.
ALTER TABLE users ADD COLUMN email TEXT;

-- A year of public holidays uploaded by an admin (holiday-cn JSON), used
-- instead of or beyond the years shipped with kesu.
CREATE TABLE holiday_years (
    year BIGINT NOT NULL PRIMARY KEY,
    source TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at BIGINT NOT NULL
);

-- One clock of one complaint. It ends met (met_at), breached (breached_at,
-- the due time, also when the work was done later) or cancelled (the
-- complaint ended another way). next_check_at is when the sweep must look
-- at it again (a warning, the breach, the next escalation step); NULL when
-- nothing is pending.
CREATE TABLE deadlines (
    id INTEGER PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    kind TEXT NOT NULL,
    fast BOOLEAN NOT NULL DEFAULT FALSE,
    started_at BIGINT NOT NULL,
    earliest_at BIGINT,
    due_at BIGINT NOT NULL,
    warn_at BIGINT,
    paused_at BIGINT,
    warned_at BIGINT,
    met_at BIGINT,
    breached_at BIGINT,
    ended_at BIGINT,
    cancelled BOOLEAN NOT NULL DEFAULT FALSE,
    escalations BIGINT NOT NULL DEFAULT 0,
    next_check_at BIGINT
);
CREATE INDEX deadlines_complaint ON deadlines (complaint_id, kind);
CREATE INDEX deadlines_next_check ON deadlines (next_check_at) WHERE next_check_at IS NOT NULL;

-- In-app notices (the bell). key makes each notice once-only, whichever
-- node writes it.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    complaint_id BIGINT REFERENCES complaints(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at, created_at);

-- Messages to send (e-mail, WeCom, DingTalk …), written in the transaction
-- of what caused them and sent by a worker that retries with backoff.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    sent_at BIGINT,
    gave_up_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Who is the on-duty leader when (R-OR-3); site NULL: every site.
CREATE TABLE duty_roster (
    id INTEGER PRIMARY KEY,
    site_id BIGINT REFERENCES sites(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX duty_roster_time ON duty_roster (starts_at, ends_at);
