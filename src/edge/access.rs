//! Access control in the stateless worker: every request's [`Access`] rule is enforced here,
//! before any Durable Object is touched. The object then receives the verified identity in
//! one header it can trust, because only this worker can reach it (the header a client may
//! have sent is always overwritten).
//!
//! Credentials: `Authorization: Bearer <token or admin key>` or the session cookie on HTTP;
//! `?token=` (or the bearer header) on sockets, never the cookie, so that a socket token is
//! always a short-lived one scoped by the editor.

use std::cell::RefCell;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{Env, Request, Response, Result};

use crate::auth::{
    self, bearer, cookie, AuthError, Claims, Keys, Purpose, Role, TokenRequest, SESSION_COOKIE,
    SESSION_TTL_SECS,
};
use crate::error::Error;
use crate::limits::{
    AUTHOR_REQUESTS_PER_SEC, AUTHOR_REQUEST_BURST, MAX_BODY_BYTES, MAX_SIGN_IN_BODY_BYTES,
    MAX_THROTTLED_CLIENTS, SIGN_IN_BURST, SIGN_IN_PER_SEC,
};
use crate::publish::iso8601;
use crate::throttle::Throttle;

use super::{error_json, json_body as body, json_error, json_response};

/// The header carrying the verified identity from the worker to a document's object.
pub const IDENTITY_HEADER: &str = "Folio-Identity";

thread_local! {
    static AUTHORS: RefCell<Throttle> = RefCell::new(Throttle::new(
        AUTHOR_REQUESTS_PER_SEC, AUTHOR_REQUEST_BURST, MAX_THROTTLED_CLIENTS));
    static SIGN_INS: RefCell<Throttle> = RefCell::new(Throttle::new(
        SIGN_IN_PER_SEC, SIGN_IN_BURST, MAX_THROTTLED_CLIENTS));
}

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

fn now_secs() -> u64 {
    (now_ms() / 1000) as u64
}

/// The server's keys from the `ADMIN_KEY` secret (`.dev.vars` locally).
pub fn keys(env: &Env) -> std::result::Result<Keys, AuthError> {
    let key = env
        .secret("ADMIN_KEY")
        .map(|s| s.to_string())
        .or_else(|_| env.var("ADMIN_KEY").map(|v| v.to_string()))
        .map_err(|_| AuthError::NotConfigured)?;
    Keys::new(&key)
}

/// A principal: its claims, and whether it is the admin key itself (the operator, who is not
/// throttled).
pub struct Principal {
    pub claims: Claims,
    pub operator: bool,
}

/// The `?token=` of `req`'s URL (sockets and preview links).
fn query_token(req: &Request) -> Option<String> {
    let url = req.url().ok()?;
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned());
    token
}

/// A token expiry (Unix seconds) in ms; `None` when it does not fit (the admin key's).
fn expiry_ms(exp: u64) -> Option<i64> {
    i64::try_from(exp).ok().and_then(|s| s.checked_mul(1000))
}

/// Who sent `req`. Sockets (`socket`) take `?token=` or the bearer header; HTTP takes the
/// bearer header or the session cookie.
pub fn authenticate(
    req: &Request,
    keys: &Keys,
    socket: bool,
) -> std::result::Result<Principal, AuthError> {
    let now = now_secs();
    let header = req.headers().get("Authorization").ok().flatten();
    if let Some(token) = header.as_deref().and_then(bearer) {
        if keys.is_admin_key(token) {
            return Ok(Principal {
                claims: Keys::admin(),
                operator: true,
            });
        }
        let claims = keys.verify(token, Purpose::Api, now)?;
        return Ok(Principal {
            claims,
            operator: false,
        });
    }
    if header.is_some() {
        return Err(AuthError::Malformed("use Authorization: Bearer <token>"));
    }
    let (token, purpose) = if socket {
        (query_token(req), Purpose::Api)
    } else {
        let header = req.headers().get("Cookie").ok().flatten();
        let token = header
            .as_deref()
            .and_then(|h| cookie(h, SESSION_COOKIE))
            .map(str::to_string);
        (token, Purpose::Session)
    };
    let token = token.ok_or(AuthError::Missing)?;
    Ok(Principal {
        claims: keys.verify(&token, purpose, now)?,
        operator: false,
    })
}

/// The JSON error for `e`; 401s say how to authenticate.
pub fn refuse(e: AuthError) -> Result<Response> {
    let unauthenticated = e.http_status().0 == 401;
    let response = error_json(&Error::Auth(e))?;
    if unauthenticated {
        response
            .headers()
            .set("WWW-Authenticate", "Bearer realm=\"folio\"")?;
    }
    Ok(response)
}

fn too_many(retry_after: u64) -> Result<Response> {
    let response = error_json(&Error::RateLimited("requests"))?;
    response
        .headers()
        .set("Retry-After", &retry_after.to_string())?;
    Ok(response)
}

/// Charges one author request to `who`; `Some(429)` when over the limit.
pub fn throttle(who: &Principal) -> Result<Option<Response>> {
    if who.operator {
        return Ok(None);
    }
    let key = format!("u:{}:{}", who.claims.role.as_str(), who.claims.sub);
    match AUTHORS.with(|t| t.borrow_mut().take(&key, now_ms())) {
        Ok(()) => Ok(None),
        Err(wait) => too_many(wait).map(Some),
    }
}

/// The client address, for limits on anonymous requests.
fn address(req: &Request) -> String {
    req.headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into())
}

/// What a document's object learns about a request's principal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    pub user: String,
    pub role: Role,
    /// Token expiry in ms since the epoch; `None` for the admin key (no expiry).
    pub expires_ms: Option<i64>,
    /// Set only when the worker forwards a `/sync/{doc}` upgrade that passed its checks
    /// (origin, socket credentials): the object accepts a socket on nothing else.
    #[serde(default)]
    pub socket: bool,
}

impl Identity {
    fn of(claims: &Claims, socket: bool) -> Self {
        Identity {
            user: claims.sub.clone(),
            role: claims.role,
            expires_ms: expiry_ms(claims.exp),
            socket,
        }
    }

    /// The identity the worker attached to `req` (objects only).
    pub fn of_request(req: &Request) -> Option<Self> {
        let header = req.headers().get(IDENTITY_HEADER).ok().flatten()?;
        let json = URL_SAFE_NO_PAD.decode(header).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// Sends `req` to the object of `doc`, carrying `who`'s identity (`socket`: a checked
/// `/sync/{doc}` upgrade).
pub async fn forward(
    env: &Env,
    doc: &str,
    req: &Request,
    who: &Claims,
    socket: bool,
) -> Result<Response> {
    let mut forwarded = req.clone_mut()?;
    let identity = serde_json::to_vec(&Identity::of(who, socket))?;
    forwarded
        .headers_mut()?
        .set(IDENTITY_HEADER, &URL_SAFE_NO_PAD.encode(identity))?;
    env.durable_object(super::DOCUMENTS)?
        .get_by_name(doc)?
        .fetch_with_request(forwarded)
        .await
}

fn claims_json(c: &Claims) -> serde_json::Value {
    json!({
        "user": c.sub,
        "role": c.role.as_str(),
        "doc": c.doc,
        "expires_at": expiry_ms(c.exp).map(iso8601),
    })
}

/// `POST /api/tokens`: a token derived from the caller's own rights ([`auth::issue`]).
pub async fn tokens(mut req: Request, keys: &Keys, who: &Claims) -> Result<Response> {
    let request: TokenRequest = match body(&mut req, MAX_BODY_BYTES).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let claims = match auth::issue(who, request, now_secs()) {
        Ok(c) => c,
        Err(e) => return refuse(e),
    };
    let token = match keys.sign(&claims) {
        Ok(t) => t,
        Err(e) => return refuse(e),
    };
    let mut out = claims_json(&claims);
    out["token"] = json!(token);
    out["use"] = json!(claims.purpose);
    json_response(201, &out)
}

/// `GET /api/session`: who is signed in.
pub fn session(who: &Principal) -> Result<Response> {
    json_response(200, &claims_json(&who.claims))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    key: Option<String>,
    invite: Option<String>,
}

fn session_cookie(value: &str, max_age: u64) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"
    )
}

/// `POST /api/session` with `{"key"}` (the admin key) or `{"invite"}` (an invitation token):
/// a session cookie. Limited per client address.
pub async fn sign_in(mut req: Request, keys: &Keys, env: &Env) -> Result<Response> {
    if let Err(wait) = SIGN_INS.with(|t| t.borrow_mut().take(&address(&req), now_ms())) {
        return too_many(wait);
    }
    let form: SignIn = match body(&mut req, MAX_SIGN_IN_BODY_BYTES).await {
        Ok(f) => f,
        Err(response) => return response,
    };
    let now = now_secs();
    let base = match (form.key, form.invite) {
        (Some(key), None) => {
            if !keys.is_admin_key(&key) {
                return json_error(401, "invalid_credentials", "that is not the admin key");
            }
            Keys::admin()
        }
        (None, Some(invite)) => match keys.verify(&invite, Purpose::Invite, now) {
            Ok(c) => {
                if let Some(refused) = use_invitation(env, &invite, &c).await? {
                    return Ok(refused);
                }
                c
            }
            Err(e) => return refuse(e),
        },
        _ => {
            return json_error(
                400,
                "invalid_parameter",
                "send {\"key\": <admin key>} or {\"invite\": <invitation token>}",
            )
        }
    };
    // Never longer than the credential it came from (an invitation's own expiry).
    let claims = auth::session_claims(base, now);
    let token = match keys.sign(&claims) {
        Ok(t) => t,
        Err(e) => return refuse(e),
    };
    let response = json_response(200, &claims_json(&claims))?;
    let max_age = claims.exp.saturating_sub(now).min(SESSION_TTL_SECS);
    response
        .headers()
        .set("Set-Cookie", &session_cookie(&token, max_age))?;
    response.headers().set("Cache-Control", "no-store")?;
    Ok(response)
}

/// Records that `invite` was used (D1 `used_invitations`, keyed by the token's hash, so it
/// survives restarts and every isolate sees it): `Some(401 invitation_used)` if it already was.
async fn use_invitation(env: &Env, invite: &str, claims: &Claims) -> Result<Option<Response>> {
    let db = match super::d1::db(env) {
        Ok(db) => db,
        Err(e) => return unavailable(&e).map(Some),
    };
    let binds = [
        auth::invitation_key(invite).into(),
        (now_ms() as f64).into(),
        (expiry_ms(claims.exp).unwrap_or(i64::MAX) as f64).into(),
    ];
    let sql = "INSERT INTO used_invitations (token_hash, used_at, expires_at) VALUES (?1, ?2, ?3)";
    match super::d1::run(&db, sql, &binds).await {
        Ok(()) => Ok(None),
        Err(e) if e.contains("UNIQUE") || e.contains("constraint") => json_error(
            401,
            "invitation_used",
            "this invitation was already used; ask for a new one",
        )
        .map(Some),
        Err(e) => unavailable(&e).map(Some),
    }
}

fn unavailable(detail: &str) -> Result<Response> {
    worker::console_error!("sign-in: D1: {detail}");
    json_error(503, "unavailable", "sign-in is unavailable; try again")
}

/// `DELETE /api/session`: clears the cookie.
pub fn sign_out() -> Result<Response> {
    let response = Response::empty()?.with_status(204);
    response
        .headers()
        .set("Set-Cookie", &session_cookie("", 0))?;
    Ok(response)
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
    ttl_seconds: Option<u64>,
}

/// `POST /api/docs/{doc}/preview` → 201 `{url, expires_at}`: a link anyone holding it may
/// open until it expires, showing the draft as rendered at the time they open it.
pub async fn preview_link(
    mut req: Request,
    keys: &Keys,
    who: &Claims,
    doc: &str,
) -> Result<Response> {
    let form: PreviewRequest = match body(&mut req, MAX_BODY_BYTES).await {
        Ok(f) => f,
        Err(response) => return response,
    };
    let ttl = form.ttl_seconds.unwrap_or(auth::PREVIEW_TTL_SECS);
    if ttl == 0 || ttl > auth::MAX_PREVIEW_TTL_SECS {
        return error_json(&Error::BadParameter {
            parameter: "ttl_seconds",
            message: format!("ttl_seconds must be 1-{}", auth::MAX_PREVIEW_TTL_SECS),
        });
    }
    let claims = Claims {
        sub: who.sub.clone(),
        role: Role::Viewer,
        doc: doc.to_string(),
        exp: (now_secs() + ttl).min(who.exp),
        purpose: Purpose::Preview,
    };
    let token = match keys.sign(&claims) {
        Ok(t) => t,
        Err(e) => return refuse(e),
    };
    let origin = req.url()?.origin().ascii_serialization();
    let mut out = claims_json(&claims);
    out["url"] = json!(format!("{origin}/preview/{doc}?token={token}"));
    json_response(201, &out)
}

/// The preview token of `GET /preview/{doc}?token=`, checked against `doc`.
pub fn preview_claims(
    req: &Request,
    keys: &Keys,
    doc: &str,
) -> std::result::Result<Claims, AuthError> {
    let token = query_token(req).ok_or(AuthError::Missing)?;
    let claims = keys.verify(&token, Purpose::Preview, now_secs())?;
    if claims.doc != doc {
        return Err(AuthError::WrongDocument);
    }
    Ok(claims)
}
