-- 0006: content types. A collection's definition is versioned: every accepted change is a new
-- row (name, version + 1), never an update, so what an entry was validated against stays
-- readable. The latest version is the definition in force.
CREATE TABLE IF NOT EXISTS collections (
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  label      TEXT NOT NULL,
  definition TEXT NOT NULL,   -- JSON {name, label, fields} as content::schema serializes it
  created_at INTEGER NOT NULL, -- ms
  PRIMARY KEY (name, version)
);
-- The collection each document belongs to, fixed when it is created. Documents created before
-- content types are posts (the built-in collection, never stored in `collections`).
ALTER TABLE documents ADD COLUMN collection TEXT NOT NULL DEFAULT 'posts';
CREATE INDEX IF NOT EXISTS documents_collection ON documents (collection, updated_at DESC, id);
