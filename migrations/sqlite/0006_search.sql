-- Full-text search (R-FB-6). `terms` holds the complaint's words, cut by
-- kesu (jieba search mode, normalised) and space-separated: the complaint's
-- own text and details, the customer's name and contacts, and the words of
-- notes, contacts, answers and results as they are recorded.
CREATE TABLE complaint_search (
    complaint_id INTEGER PRIMARY KEY REFERENCES complaints(id),
    terms TEXT NOT NULL
);

-- FTS5 over the terms (external content: the words are stored once). The
-- unicode61 tokenizer splits on the spaces kesu put there; no positions are
-- kept, a query is a set of words that must all be present.
CREATE VIRTUAL TABLE complaint_fts USING fts5(
    terms,
    content = 'complaint_search',
    content_rowid = 'complaint_id',
    tokenize = 'unicode61 remove_diacritics 0',
    detail = none
);

CREATE TRIGGER complaint_search_ai AFTER INSERT ON complaint_search BEGIN
    INSERT INTO complaint_fts (rowid, terms) VALUES (new.complaint_id, new.terms);
END;
CREATE TRIGGER complaint_search_ad AFTER DELETE ON complaint_search BEGIN
    INSERT INTO complaint_fts (complaint_fts, rowid, terms) VALUES ('delete', old.complaint_id, old.terms);
END;
CREATE TRIGGER complaint_search_au AFTER UPDATE ON complaint_search BEGIN
    INSERT INTO complaint_fts (complaint_fts, rowid, terms) VALUES ('delete', old.complaint_id, old.terms);
    INSERT INTO complaint_fts (rowid, terms) VALUES (new.complaint_id, new.terms);
END;
