-- Every showing of a customer's unmasked contact details (PIPL): who saw
-- whose data, for which complaint, when.
CREATE TABLE personal_data_views (
    user_id BIGINT NOT NULL REFERENCES users(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    complaint_id BIGINT REFERENCES complaints(id),
    purpose TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX personal_data_views_customer ON personal_data_views (customer_id, at);
CREATE INDEX personal_data_views_user ON personal_data_views (user_id, at);
