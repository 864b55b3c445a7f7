-- 0007: published entries of collections other than posts. Versions (and their bodies, which
-- hold an entry's fields) stay in `versions`/`version_parts`; these tables are what the
-- reader API on collections queries. Written like posts: only forward, only to a version
-- holding this content, in one batch.

-- The published face of an entry: one row per entry ever published.
CREATE TABLE IF NOT EXISTS entries (
  doc_id             TEXT PRIMARY KEY,
  collection         TEXT NOT NULL,
  slug               TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('published', 'unpublished')),
  version            INTEGER NOT NULL,
  title              TEXT NOT NULL,
  -- The fields as lists answer them (rich text left out: read the entry for it), or NULL when
  -- that is over 64 KiB.
  summary            TEXT,
  published_at       INTEGER NOT NULL,  -- ms: the current version's publish time
  first_published_at INTEGER NOT NULL,  -- ms: listing order
  UNIQUE (collection, slug)
);
CREATE INDEX IF NOT EXISTS entries_newest
  ON entries (collection, status, first_published_at DESC, doc_id DESC);

-- Every filterable value of a published entry (numbers, dates and booleans in `num`; options,
-- tags and references in `txt`), one row per value. Each filter is one lookup in these indexes.
CREATE TABLE IF NOT EXISTS entry_values (
  collection TEXT NOT NULL,
  field      TEXT NOT NULL,
  doc_id     TEXT NOT NULL,
  num        REAL,
  txt        TEXT
);
CREATE INDEX IF NOT EXISTS entry_values_num ON entry_values (collection, field, num, doc_id);
CREATE INDEX IF NOT EXISTS entry_values_txt ON entry_values (collection, field, txt, doc_id);
CREATE INDEX IF NOT EXISTS entry_values_doc ON entry_values (doc_id);
