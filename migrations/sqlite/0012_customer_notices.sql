-- Customer messages (R-NT-1, R-FB-1): what kesu decided to tell a customer
-- about their complaint, one row per (complaint, occasion[, event]) keyed by
-- `key` so a decision is made once whichever node makes it and however often
-- the events are read again. `channel` is sms, email, wechat, or none (the
-- customer could not be reached: no phone for SMS, no address, no channel
-- set up); `outbox_id` is the message, when one was queued.
CREATE TABLE customer_messages (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    event_id BIGINT NOT NULL REFERENCES complaint_events(id),
    occasion TEXT NOT NULL,
    channel TEXT NOT NULL,
    outbox_id BIGINT REFERENCES outbox(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX customer_messages_complaint ON customer_messages (complaint_id, id);

-- What a templated message needs besides its text, as JSON: an SMS's
-- vendor template and parameters, a WeChat template message's data.
ALTER TABLE outbox ADD COLUMN payload TEXT;
