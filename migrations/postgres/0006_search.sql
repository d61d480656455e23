-- Full-text search (R-FB-6). `terms` holds the complaint's words, cut by
-- kesu (jieba search mode, normalised) and space-separated: the complaint's
-- own text and details, the customer's name and contacts, and the words of
-- notes, contacts, answers and results as they are recorded.
CREATE TABLE complaint_search (
    complaint_id BIGINT PRIMARY KEY REFERENCES complaints(id),
    terms TEXT NOT NULL
);

-- The words are taken as they are (no parser, no stemming): each
-- space-separated term is one lexeme.
CREATE INDEX complaint_search_terms ON complaint_search
    USING gin (array_to_tsvector(string_to_array(terms, ' ')));
