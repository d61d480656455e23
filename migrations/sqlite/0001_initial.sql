-- kesu schema, SQLite flavour. Kept in step with migrations/postgres by the
-- schema comparison test in kesu-storage. Times are Unix milliseconds (UTC).

CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    created_at BIGINT NOT NULL
);

CREATE TABLE departments (
    id INTEGER PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    roles TEXT NOT NULL,
    department_id BIGINT REFERENCES departments(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    parent_code TEXT,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    position BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE settings (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX customers_email ON customers (email);

CREATE TABLE number_counters (
    day BIGINT NOT NULL PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE complaints (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    channel TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    description TEXT NOT NULL,
    restatement TEXT,
    event_time TEXT,
    event_place TEXT,
    people_involved TEXT,
    subject TEXT,
    order_ref TEXT,
    plate TEXT,
    urgent BOOLEAN NOT NULL DEFAULT FALSE,
    category TEXT,
    severity TEXT NOT NULL,
    signals TEXT NOT NULL DEFAULT '',
    department_id BIGINT REFERENCES departments(id),
    assignee_id BIGINT REFERENCES users(id),
    taken_over BOOLEAN NOT NULL DEFAULT FALSE,
    proposals BIGINT NOT NULL DEFAULT 0,
    current_round BIGINT,
    current_compensation_fen BIGINT,
    tasks BIGINT NOT NULL DEFAULT 0,
    execution_done BOOLEAN NOT NULL DEFAULT FALSE,
    agreement_attached BOOLEAN NOT NULL DEFAULT FALSE,
    close_exception_pending BOOLEAN NOT NULL DEFAULT FALSE,
    satisfied BOOLEAN NOT NULL DEFAULT FALSE,
    satisfaction_score BIGINT,
    merged_into_id BIGINT REFERENCES complaints(id),
    created_by BIGINT REFERENCES users(id),
    updated_at BIGINT NOT NULL,
    closed_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX complaints_state_received ON complaints (state, received_at);
CREATE INDEX complaints_received ON complaints (received_at);
CREATE INDEX complaints_department ON complaints (department_id, state);
CREATE INDEX complaints_assignee ON complaints (assignee_id, state);
CREATE INDEX complaints_customer ON complaints (customer_id);

CREATE TABLE complaint_events (
    id INTEGER PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    at BIGINT NOT NULL,
    payload TEXT NOT NULL,
    UNIQUE (complaint_id, seq)
);

CREATE TABLE proposals (
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    round BIGINT NOT NULL,
    measures TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    follow_up TEXT NOT NULL,
    compensation_fen BIGINT NOT NULL,
    status TEXT NOT NULL,
    customer_words TEXT,
    proposed_by BIGINT REFERENCES users(id),
    proposed_at BIGINT NOT NULL,
    answered_at BIGINT,
    PRIMARY KEY (complaint_id, round)
);

CREATE TABLE tasks (
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    seq BIGINT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments(id),
    owner_id BIGINT REFERENCES users(id),
    title TEXT NOT NULL,
    due_at BIGINT,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    result TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    PRIMARY KEY (complaint_id, seq)
);
CREATE INDEX tasks_department ON tasks (department_id, done);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX attachments_complaint ON attachments (complaint_id);
