-- The customer portal (/portal). A complaint filed there is tracked by its
-- number and a tracking code shown once at filing; only a hash of the code
-- (with the number) is kept. `form_key` is the filing form's own random key,
-- so a form submitted twice files one complaint.
CREATE TABLE tracking_codes (
    complaint_id BIGINT NOT NULL PRIMARY KEY REFERENCES complaints(id),
    code_hash TEXT NOT NULL,
    form_key TEXT UNIQUE,
    created_at BIGINT NOT NULL
);

-- Portal attempts per client address, counted on every node alike:
-- filings, and tracking with a wrong number or code. Old rows are removed as
-- they age out of the window.
CREATE TABLE portal_attempts (
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX portal_attempts_address ON portal_attempts (kind, address, at);
