//! Signed access tokens: their claims, the server's keys, and credentials in headers.
//!
//! A token is `v1.<claims>.<mac>`: base64url (no padding) of the claims' JSON, and of the
//! HMAC-SHA256 of `v1.<claims>` under a key derived from the operator's admin key (a Worker
//! secret). Nothing is stored server-side: a token is valid while its signature checks, its
//! expiry is in the future, and its purpose matches where it is presented. Verification runs
//! in constant time in the MAC (`hmac`'s `verify_slice`) and rejects anything oversized or
//! malformed before any JSON is parsed. What a token's role and scope allow is
//! [`super::policy`].

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::policy::{Role, Scope};
use crate::doc_id::DocId;
use crate::time::Secs;

type HmacSha256 = Hmac<Sha256>;

use crate::limits::{MAX_TOKEN_BYTES, MAX_USER_LEN, MIN_ADMIN_KEY_LEN};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "folio_session";

/// Where a token may be presented. A token of one purpose is refused everywhere else, so a
/// preview link cannot open a socket and an invitation cannot call the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// `Authorization: Bearer` on author endpoints, and `?token=` on sockets.
    Api,
    /// The browser session cookie.
    Session,
    /// Exchanged once for a session at sign-in.
    Invite,
    /// `GET /preview/{doc}?token=`: the rendered draft of one document.
    Preview,
}

/// The signed content of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Who: a display name, 1-64 characters without control characters.
    pub sub: String,
    pub role: Role,
    /// The document this token is for, or all (`*` in the token).
    pub doc: Scope,
    /// Expiry (whole seconds since the Unix epoch).
    pub exp: Secs,
    #[serde(rename = "use")]
    pub purpose: Purpose,
}

impl Claims {
    /// Whether these claims cover document `doc` (`None`: all documents are needed).
    pub fn covers(&self, doc: Option<&DocId>) -> bool {
        self.doc.covers(doc)
    }
}

/// Why a request was not authorized. 401s ask for (new) credentials; 403s say the
/// credentials are good but not for this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The worker has no admin key configured: nothing can be verified (503).
    NotConfigured,
    /// No credentials at all (401).
    Missing,
    /// Not a token (401).
    Malformed(&'static str),
    /// The signature does not match: tampered with, or signed by another key (401).
    BadSignature,
    /// Past its expiry (401).
    Expired,
    /// A token of another purpose (401).
    WrongPurpose { expected: Purpose, got: Purpose },
    /// The role is too low (403).
    Role { have: Role, need: Role },
    /// The token is for another document, or for one when all are needed (403).
    WrongDocument,
    /// A token request asks for more than its issuer has (403).
    Exceeds(&'static str),
    /// A token request is invalid (400).
    BadRequest(String),
}

impl AuthError {
    /// HTTP status and stable code.
    pub fn http_status(&self) -> (u16, &'static str) {
        match self {
            AuthError::NotConfigured => (503, "auth_not_configured"),
            AuthError::Missing => (401, "unauthenticated"),
            AuthError::Malformed(_) => (401, "token_malformed"),
            AuthError::BadSignature => (401, "token_invalid"),
            AuthError::Expired => (401, "token_expired"),
            AuthError::WrongPurpose { .. } => (401, "token_wrong_purpose"),
            AuthError::Role { .. } => (403, "forbidden"),
            AuthError::WrongDocument => (403, "wrong_document"),
            AuthError::Exceeds(_) => (403, "forbidden"),
            AuthError::BadRequest(_) => (400, "invalid_parameter"),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::NotConfigured => {
                f.write_str("the server has no ADMIN_KEY secret; see the README (Deploying)")
            }
            AuthError::Missing => f.write_str(
                "sign in, or send a token (Authorization: Bearer, or ?token= on sockets)",
            ),
            AuthError::Malformed(why) => write!(f, "malformed token: {why}"),
            AuthError::BadSignature => f.write_str("token signature does not match"),
            AuthError::Expired => f.write_str("token expired; get a fresh one"),
            AuthError::WrongPurpose { expected, got } => write!(
                f,
                "a {} token cannot be used here; use a {} token",
                purpose_name(*got),
                purpose_name(*expected)
            ),
            AuthError::Role { have, need } => write!(
                f,
                "role {} may not do this; it needs {}",
                have.as_str(),
                need.as_str()
            ),
            AuthError::WrongDocument => f.write_str("this token is not for this document"),
            AuthError::Exceeds(what) => {
                write!(f, "a token cannot grant more than its issuer: {what}")
            }
            AuthError::BadRequest(why) => f.write_str(why),
        }
    }
}

fn purpose_name(p: Purpose) -> &'static str {
    match p {
        Purpose::Api => "api",
        Purpose::Session => "session",
        Purpose::Invite => "invite",
        Purpose::Preview => "preview",
    }
}

/// The server's keys, derived from the admin key.
pub struct Keys {
    signing: [u8; 32],
    /// MAC of the admin key under `signing`: presented keys are compared through the MAC, in
    /// constant time, never byte by byte.
    admin_tag: [u8; 32],
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// HMAC-SHA256 over `parts`. HMAC takes keys of any length, so the error cannot happen; it
/// is mapped rather than unwrapped all the same.
fn mac(key: &[u8], parts: &[&[u8]]) -> Result<HmacSha256, AuthError> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| AuthError::NotConfigured)?;
    for part in parts {
        mac.update(part);
    }
    Ok(mac)
}

impl Keys {
    /// Keys from the admin key (the `ADMIN_KEY` secret).
    ///
    /// # Errors
    /// [`AuthError::NotConfigured`] when it is missing or shorter than [`MIN_ADMIN_KEY_LEN`].
    pub fn new(admin_key: &str) -> Result<Keys, AuthError> {
        let admin_key = admin_key.trim();
        if admin_key.chars().count() < MIN_ADMIN_KEY_LEN {
            return Err(AuthError::NotConfigured);
        }
        let signing: [u8; 32] = mac(admin_key.as_bytes(), &[b"folio token signing v1"])?
            .finalize()
            .into_bytes()
            .into();
        let admin_tag = mac(&signing, &[b"admin key\0", admin_key.as_bytes()])?
            .finalize()
            .into_bytes()
            .into();
        Ok(Keys { signing, admin_tag })
    }

    /// Whether `candidate` is the admin key (constant time in its content).
    pub fn is_admin_key(&self, candidate: &str) -> bool {
        candidate.len() <= MAX_TOKEN_BYTES
            && mac(
                &self.signing,
                &[b"admin key\0", candidate.trim().as_bytes()],
            )
            .is_ok_and(|m| m.verify_slice(&self.admin_tag).is_ok())
    }

    /// The token for `claims`.
    ///
    /// # Errors
    /// Only if the claims do not serialize (they are plain strings and numbers).
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let json = serde_json::to_vec(claims)
            .map_err(|e| AuthError::BadRequest(format!("claims: {e}")))?;
        let body = format!("v1.{}", URL_SAFE_NO_PAD.encode(json));
        let tag = mac(&self.signing, &[body.as_bytes()])?
            .finalize()
            .into_bytes();
        Ok(format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag)))
    }

    /// The claims of `token` if it is genuine, unexpired at `now` (Unix seconds) and of
    /// `purpose`.
    ///
    /// # Errors
    /// [`AuthError::Malformed`], [`AuthError::BadSignature`], [`AuthError::Expired`],
    /// [`AuthError::WrongPurpose`].
    pub fn verify(&self, token: &str, purpose: Purpose, now: Secs) -> Result<Claims, AuthError> {
        let claims = self.open(token)?;
        if claims.purpose != purpose {
            return Err(AuthError::WrongPurpose {
                expected: purpose,
                got: claims.purpose,
            });
        }
        if claims.exp <= now {
            return Err(AuthError::Expired);
        }
        Ok(claims)
    }

    /// Checks the signature and decodes the claims, whatever their purpose and expiry.
    fn open(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed("too long"));
        }
        let rest = token
            .strip_prefix("v1.")
            .ok_or(AuthError::Malformed("unknown format"))?;
        let (claims_b64, tag_b64) = rest
            .split_once('.')
            .ok_or(AuthError::Malformed("missing signature"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag_b64)
            .map_err(|_| AuthError::Malformed("signature is not base64url"))?;
        let body = &token[..3 + claims_b64.len()];
        mac(&self.signing, &[body.as_bytes()])?
            .verify_slice(&tag)
            .map_err(|_| AuthError::BadSignature)?;
        // Signed by us: the claims are ours, but decode them defensively all the same.
        let json = URL_SAFE_NO_PAD
            .decode(claims_b64)
            .map_err(|_| AuthError::Malformed("claims are not base64url"))?;
        let claims: Claims =
            serde_json::from_slice(&json).map_err(|_| AuthError::Malformed("claims"))?;
        validate(&claims).map_err(|_| AuthError::Malformed("claims"))?;
        Ok(claims)
    }

    /// The principal the admin key stands for.
    pub fn admin() -> Claims {
        Claims {
            sub: "admin".into(),
            role: Role::Admin,
            doc: Scope::All,
            exp: Secs::NEVER,
            purpose: Purpose::Api,
        }
    }
}

pub(crate) fn validate(claims: &Claims) -> Result<(), AuthError> {
    let n = claims.sub.chars().count();
    if n == 0 || n > MAX_USER_LEN || claims.sub.chars().any(char::is_control) {
        return Err(AuthError::BadRequest(format!(
            "user must be 1-{MAX_USER_LEN} characters without control characters"
        )));
    }
    Ok(())
}

/// The key under which a used invitation is recorded: the SHA-256 of its token, in hex.
pub fn invitation_key(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::policy::*;
    use crate::limits::*;

    fn id(s: &str) -> DocId {
        DocId::parse(s).unwrap()
    }

    const KEY: &str = "an-admin-key-of-enough-length-0123456789";

    fn claims(role: Role, doc: &str, exp: u64) -> Claims {
        let exp = Secs(exp);
        Claims {
            sub: "ada".into(),
            role,
            doc: Scope::parse(doc).unwrap(),
            exp,
            purpose: Purpose::Api,
        }
    }

    #[test]
    fn short_or_missing_admin_keys_are_refused() {
        assert_eq!(Keys::new("").unwrap_err(), AuthError::NotConfigured);
        assert_eq!(Keys::new("short").unwrap_err(), AuthError::NotConfigured);
        let keys = Keys::new(KEY).unwrap();
        assert!(keys.is_admin_key(KEY));
        assert!(!keys.is_admin_key(&KEY[1..]));
        assert!(!keys.is_admin_key(""));
    }

    #[test]
    fn tokens_round_trip_and_expire() {
        let keys = Keys::new(KEY).unwrap();
        let c = claims(Role::Writer, "doc-1", 1000);
        let token = keys.sign(&c).unwrap();
        assert_eq!(keys.verify(&token, Purpose::Api, Secs(999)), Ok(c));
        assert_eq!(
            keys.verify(&token, Purpose::Api, Secs(1000)),
            Err(AuthError::Expired)
        );
        assert!(matches!(
            keys.verify(&token, Purpose::Session, Secs(0)),
            Err(AuthError::WrongPurpose { .. })
        ));
        // Another server's key signs tokens that do not verify here.
        let other = Keys::new(&format!("{KEY}x")).unwrap();
        assert_eq!(
            other.verify(&token, Purpose::Api, Secs(0)),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn tampering_anywhere_is_detected() {
        let keys = Keys::new(KEY).unwrap();
        let token = keys.sign(&claims(Role::Viewer, "doc-1", 1000)).unwrap();
        // Flip each character in turn: never valid.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(bytes).unwrap();
            assert!(
                keys.verify(&t, Purpose::Api, Secs(0)).is_err(),
                "flip at {i}"
            );
        }
        // Claims swapped in from a forged payload keep the old signature: refused.
        let (_, tag) = token.rsplit_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims(Role::Admin, "*", u64::MAX)).unwrap());
        assert_eq!(
            keys.verify(&format!("v1.{forged}.{tag}"), Purpose::Api, Secs(0)),
            Err(AuthError::BadSignature)
        );
        for bad in [
            "", "v1", "v1.", "v1..", "v2.a.b", "v1.a", "v1.a.b.c", "v1.!!.!!",
        ] {
            assert!(
                matches!(
                    keys.verify(bad, Purpose::Api, Secs(0)),
                    Err(AuthError::Malformed(_) | AuthError::BadSignature)
                ),
                "{bad:?}"
            );
        }
        let huge = format!("v1.{}.x", "a".repeat(MAX_TOKEN_BYTES));
        assert_eq!(
            keys.verify(&huge, Purpose::Api, Secs(0)),
            Err(AuthError::Malformed("too long"))
        );
    }

    #[test]
    fn roles_and_scopes() {
        let writer = claims(Role::Writer, "doc-1", 1000);
        assert_eq!(permit(&writer, Role::Writer, Some(&id("doc-1"))), Ok(()));
        assert_eq!(permit(&writer, Role::Viewer, Some(&id("doc-1"))), Ok(()));
        assert_eq!(
            permit(&writer, Role::Editor, Some(&id("doc-1"))),
            Err(AuthError::Role {
                have: Role::Writer,
                need: Role::Editor
            })
        );
        assert_eq!(
            permit(&writer, Role::Writer, Some(&id("doc-2"))),
            Err(AuthError::WrongDocument)
        );
        assert_eq!(
            permit(&writer, Role::Writer, None),
            Err(AuthError::WrongDocument)
        );
        let all = claims(Role::Viewer, "*", 1000);
        assert_eq!(permit(&all, Role::Viewer, None), Ok(()));
        assert!(Role::Admin > Role::Editor && Role::Editor > Role::Writer);
        assert!(!Role::Viewer.can_edit() && Role::Writer.can_edit());
    }

    #[test]
    fn issuing_never_grants_more_than_the_issuer_has() {
        let editor = claims(Role::Editor, "*", 10_000);
        let req = |f: fn(&mut TokenRequest)| {
            let mut r = TokenRequest::default();
            f(&mut r);
            r
        };
        let own = issue(&editor, TokenRequest::default(), Secs(100)).unwrap();
        assert_eq!(
            (own.role, own.exp),
            (Role::Editor, Secs(100 + API_TTL_SECS))
        );
        assert_eq!(
            issue(&editor, req(|r| r.role = Some(Role::Admin)), Secs(100)),
            Err(AuthError::Exceeds("role"))
        );
        // Capped by the issuer's own expiry.
        let long = issue(
            &editor,
            req(|r| r.ttl_seconds = Some(MAX_API_TTL_SECS)),
            Secs(100),
        )
        .unwrap();
        assert_eq!(long.exp, Secs(10_000));
        let other = issue(
            &editor,
            req(|r| {
                r.user = Some("bob".into());
                r.role = Some(Role::Viewer);
                r.doc = Some("doc-9".into());
            }),
            Secs(100),
        )
        .unwrap();
        assert_eq!((other.sub.as_str(), other.doc.as_str()), ("bob", "doc-9"));

        let writer = claims(Role::Writer, "doc-1", 10_000);
        assert!(issue(&writer, TokenRequest::default(), Secs(100)).is_ok());
        assert_eq!(
            issue(&writer, req(|r| r.doc = Some("doc-2".into())), Secs(100)),
            Err(AuthError::Exceeds("document scope"))
        );
        assert_eq!(
            issue(&writer, req(|r| r.doc = Some("*".into())), Secs(100)),
            Err(AuthError::Exceeds("document scope"))
        );
        assert!(matches!(
            issue(&writer, req(|r| r.user = Some("bob".into())), Secs(100)),
            Err(AuthError::Role { .. })
        ));
        assert!(matches!(
            issue(
                &writer,
                req(|r| r.purpose = Some(Purpose::Invite)),
                Secs(100)
            ),
            Err(AuthError::Role { .. })
        ));
        for bad in [
            req(|r| r.ttl_seconds = Some(0)),
            req(|r| r.user = Some(String::new())),
            req(|r| r.user = Some("a\nb".into())),
            req(|r| r.doc = Some("../x".into())),
            req(|r| r.purpose = Some(Purpose::Session)),
        ] {
            assert!(
                matches!(
                    issue(&editor, bad, Secs(100)),
                    Err(AuthError::BadRequest(_))
                ),
                "accepted a bad request"
            );
        }
    }

    #[test]
    fn headers() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(
            cookie("a=1; folio_session=xyz; b=2", SESSION_COOKIE),
            Some("xyz")
        );
        assert_eq!(cookie("a=1", SESSION_COOKIE), None);
        assert_eq!(cookie("", SESSION_COOKIE), None);
    }

    #[test]
    fn a_session_never_outlives_the_credential_it_came_from() {
        let invite = Claims {
            sub: "guest".into(),
            role: Role::Editor,
            doc: Scope::All,
            exp: Secs(1_000 + 60),
            purpose: Purpose::Invite,
        };
        let session = session_claims(invite.clone(), Secs(1_000));
        assert_eq!(
            (session.exp, session.purpose),
            (Secs(1_060), Purpose::Session)
        );
        assert_eq!(
            (session.sub.as_str(), session.role),
            ("guest", Role::Editor)
        );
        // A session can mint an invitation, but only until the session ends ...
        let request = TokenRequest {
            purpose: Some(Purpose::Invite),
            ..TokenRequest::default()
        };
        let minted = issue(&session, request, Secs(1_010)).unwrap();
        assert_eq!(minted.exp, Secs(1_060));
        // ... so signing in with it cannot extend access.
        assert_eq!(session_claims(minted, Secs(1_020)).exp, Secs(1_060));
        // The admin key's session is the full length.
        assert_eq!(
            session_claims(Keys::admin(), Secs(0)).exp,
            Secs(SESSION_TTL_SECS)
        );
    }

    #[test]
    fn invitations_are_recorded_by_a_hash_of_the_token() {
        let a = invitation_key("v1.a.b");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, invitation_key("v1.a.b"));
        assert_ne!(a, invitation_key("v1.a.c"));
    }
}
