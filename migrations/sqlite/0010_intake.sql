-- Outside systems that file complaints for customers (the website, the app,
-- a WeChat mini program): one row per integration, keyed by the SHA-256 of
-- its secret key (the key itself is shown once and never stored). A key may
-- only file complaints and read back the ones it filed.
CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

-- Which integration filed which complaint (kept for good: it may read the
-- status back).
CREATE TABLE integration_complaints (
    complaint_id BIGINT NOT NULL PRIMARY KEY REFERENCES complaints(id),
    integration_id BIGINT NOT NULL REFERENCES integrations(id)
);

-- Idempotency-Key per integration: the hash of the request body and the
-- answer given, written in the transaction of the complaint. Rows older
-- than 24 hours are removed.
CREATE TABLE idempotency_keys (
    integration_id BIGINT NOT NULL REFERENCES integrations(id),
    idempotency_key TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    complaint_id BIGINT REFERENCES complaints(id),
    answer TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (integration_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- A case forwarded by a regulator, a hotline, a consumer association or the
-- press (R-IN-1, R-CL-2): the forwarding body, its reference number and the
-- reply deadline it set.
CREATE TABLE forwarded_cases (
    complaint_id BIGINT NOT NULL PRIMARY KEY REFERENCES complaints(id),
    body TEXT NOT NULL,
    reference TEXT,
    reply_due_at BIGINT NOT NULL
);

-- Complaints about one problem, linked by a person (R-IN-3). Each pair is
-- stored once, the smaller id first.
CREATE TABLE complaint_links (
    a_id BIGINT NOT NULL REFERENCES complaints(id),
    b_id BIGINT NOT NULL REFERENCES complaints(id),
    linked_by BIGINT REFERENCES users(id),
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (a_id, b_id)
);
CREATE INDEX complaint_links_b ON complaint_links (b_id);
