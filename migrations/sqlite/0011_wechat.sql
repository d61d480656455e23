-- The WeChat Official Account (公众号) endpoint, POST /wechat.
--
-- A follower is a customer known by their openid (their id within this
-- account), which may be the only contact such a customer has: staff
-- correct the name and add a phone number later. NULLs do not collide, so
-- customers without an openid are unaffected by the unique index.
ALTER TABLE customers ADD COLUMN wechat_openid TEXT;
CREATE UNIQUE INDEX customers_wechat_openid ON customers (wechat_openid);

-- One row per message WeChat delivered, keyed by its MsgId (an event by
-- `event:<Event>:<openid>:<CreateTime>`), claimed in the transaction that
-- files it: WeChat retries a message it got no answer to within 5 s, and a
-- retry (also a concurrent one) finds the row and gets the stored answer
-- again. `outcome` is new_complaint, added, welcome, unsupported, limited
-- or ignored; `reply` is the text answered. The rows of the last hour
-- count a follower's messages for the flood limit. A new complaint's
-- tracking code is kept apart in `pending_code` (the reply names it as
-- %{code}) only while WeChat may still retry, then forgotten: the code is
-- otherwise stored only as a hash.
CREATE TABLE wechat_messages (
    id INTEGER PRIMARY KEY,
    msg_key TEXT NOT NULL UNIQUE,
    openid TEXT NOT NULL,
    msg_type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    complaint_id BIGINT REFERENCES complaints(id),
    reply TEXT NOT NULL,
    pending_code TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX wechat_messages_openid ON wechat_messages (openid, at);
CREATE INDEX wechat_messages_pending ON wechat_messages (at) WHERE pending_code IS NOT NULL;
