-- 0011: a draft's slug in the registry (kept fresh by the document's object with its title),
-- so that an import finds the entry a line is about by its slug, published or not.
ALTER TABLE documents ADD COLUMN slug TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS documents_by_slug ON documents (collection, slug);
