-- Complaints belong to a site (the store or branch they concern); a site
-- marked as the group (集团) lets its staff see every site (R-OR-1).
ALTER TABLE sites ADD COLUMN is_group BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE sites SET is_group = TRUE WHERE id = (SELECT MIN(id) FROM sites);
ALTER TABLE complaints ADD COLUMN site_id BIGINT REFERENCES sites(id);
UPDATE complaints SET site_id = (SELECT MIN(id) FROM sites);
CREATE INDEX complaints_site ON complaints (site_id, received_at);
