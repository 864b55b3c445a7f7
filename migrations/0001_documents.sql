-- Folio's D1 schema, applied in order by `wrangler d1 migrations apply DB`.
-- 0001: the document registry. Each row names a document's Durable Object (by id) so that
-- listings and publishing (see the publishing issue) can find documents without waking them.
CREATE TABLE IF NOT EXISTS documents (
  id          TEXT PRIMARY KEY,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
