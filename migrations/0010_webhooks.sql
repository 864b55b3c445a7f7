-- 0010: webhooks. Each is an endpoint subscribed to some events; its deliveries are queued
-- in a Durable Object of its own (WebhookObject, named by the id), not here.
CREATE TABLE IF NOT EXISTS webhooks (
  id          TEXT PRIMARY KEY,      -- wh_ + 24 hex digits
  url         TEXT NOT NULL,
  events      TEXT NOT NULL,         -- a JSON list of event names
  description TEXT NOT NULL DEFAULT '',
  secret      TEXT NOT NULL,         -- whsec_ + base64; shown once, at creation
  enabled     INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,              -- why it was disabled (by an admin, or failing 5 days)
  created_at  INTEGER NOT NULL,      -- ms
  updated_at  INTEGER NOT NULL
);
