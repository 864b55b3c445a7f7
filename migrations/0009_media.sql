-- 0009: the media library. The bytes live in R2 (binding MEDIA) under the id, variants under
-- `{id}/w{width}`; D1 lists them and knows who refers to them.
CREATE TABLE IF NOT EXISTS media (
  id         TEXT PRIMARY KEY,        -- the first 32 hex digits of the SHA-256 of the bytes
  type       TEXT NOT NULL,           -- MIME type, sniffed from the bytes
  bytes      INTEGER NOT NULL,
  width      INTEGER,                 -- displayed size from the header (NULL for a PDF)
  height     INTEGER,
  sha256     TEXT NOT NULL,
  filename   TEXT NOT NULL DEFAULT '',
  alt        TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,        -- ms
  created_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS media_newest ON media (created_at DESC, id DESC);

-- Which documents refer to a file: `draft` rows are the draft's images as its object last
-- refreshed its registry row (every 10 s while edits flow, and when its last editor leaves);
-- `published` rows are written with each published version and never removed (a version in
-- the history can be restored). A file with any row cannot be deleted.
CREATE TABLE IF NOT EXISTS media_refs (
  media_id TEXT NOT NULL,
  doc_id   TEXT NOT NULL,
  kind     TEXT NOT NULL CHECK (kind IN ('draft', 'published')),
  PRIMARY KEY (media_id, doc_id, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS media_refs_by_doc ON media_refs (doc_id, kind);
