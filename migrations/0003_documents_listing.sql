-- 0003: what the authors' document list shows without waking any document. The document's
-- object keeps these fresh: at most every 10 s while edits flow, and on publish, on schedule
-- changes and when its last editor leaves.
ALTER TABLE documents ADD COLUMN title TEXT NOT NULL DEFAULT '';
-- The earliest pending scheduled publish (ms), or NULL.
ALTER TABLE documents ADD COLUMN next_publish_at INTEGER;
CREATE INDEX IF NOT EXISTS documents_recent ON documents (updated_at DESC, id);
