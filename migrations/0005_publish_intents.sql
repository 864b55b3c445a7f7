-- 0005: publishing that survives crashes and posts of any size within the document cap.

-- A version's body (its {html, json, text} as JSON) in parts of at most 512 KiB, so that no
-- post is too large for a D1 row. Keyed by the content hash too: parts of one version number
-- can never mix contents. Versions written before 0005 keep their body in `versions` (parts 0).
ALTER TABLE versions ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS version_parts (
  doc_id       TEXT NOT NULL,
  version      INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  part         INTEGER NOT NULL,
  data         TEXT NOT NULL,
  PRIMARY KEY (doc_id, version, content_hash, part)
);

-- A publish or unpublish that failed or is being retried, as the document list shows it:
-- JSON {action, code, message, retrying, next_at, attempts}; NULL when none.
ALTER TABLE documents ADD COLUMN publish_problem TEXT;
