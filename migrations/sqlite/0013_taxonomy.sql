-- Keyword phrases of a sub-category (R-CL-1), one per line: an industry
-- template's or the admin's. The web layer proposes, below the engine's top
-- category, the active sub-category whose phrases the complaint's words
-- match best. The shipped categories keep their rules in kesu-classify and
-- leave this empty.
ALTER TABLE categories ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
