-- 0002: publishing. A document's object decides version numbers; these tables are what the
-- stateless reader API queries. Every write is idempotent (versions are immutable and keyed by
-- (doc_id, version); posts only move forward in version), so a retried flush is harmless.

-- The published face of a document: one row per document ever published.
CREATE TABLE IF NOT EXISTS posts (
  doc_id             TEXT PRIMARY KEY,
  slug               TEXT NOT NULL UNIQUE,
  status             TEXT NOT NULL CHECK (status IN ('published', 'unpublished')),
  version            INTEGER NOT NULL,
  title              TEXT NOT NULL,
  excerpt            TEXT NOT NULL,
  tags               TEXT NOT NULL,            -- JSON array
  published_at       INTEGER NOT NULL,         -- ms: the current version's publish time
  first_published_at INTEGER NOT NULL          -- ms: listing order
);
CREATE INDEX IF NOT EXISTS posts_newest ON posts (status, first_published_at DESC, doc_id DESC);

-- Tags of published posts, for `GET /api/posts?tag=`.
CREATE TABLE IF NOT EXISTS post_tags (
  tag    TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  PRIMARY KEY (tag, doc_id)
);

-- Every published version, immutable.
CREATE TABLE IF NOT EXISTS versions (
  doc_id             TEXT NOT NULL,
  version            INTEGER NOT NULL,
  slug               TEXT NOT NULL,
  title              TEXT NOT NULL,
  excerpt            TEXT NOT NULL,
  tags               TEXT NOT NULL,
  html               TEXT NOT NULL,
  json               TEXT NOT NULL,
  text               TEXT NOT NULL,
  word_count         INTEGER NOT NULL,
  content_hash       TEXT NOT NULL,
  published_at       INTEGER NOT NULL,
  first_published_at INTEGER NOT NULL,
  PRIMARY KEY (doc_id, version)
);
