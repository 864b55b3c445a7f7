-- 0004: invitations are single-use. Signing in with one records the SHA-256 of its token here
-- (it survives restarts, and every worker isolate sees it); a second use is refused with 401
-- `invitation_used`. `expires_at` (ms) says when a row no longer matters.
CREATE TABLE IF NOT EXISTS used_invitations (
  token_hash TEXT PRIMARY KEY,
  used_at    INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
