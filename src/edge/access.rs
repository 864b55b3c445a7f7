//! Access control in the stateless worker: every request's [`Access`] rule is enforced here,
//! before any Durable Object is touched. The object then receives the verified identity in
//! one header it can trust, because only this worker can reach it (the header a client may
//! have sent is always overwritten).
//!
//! Credentials: `Authorization: Bearer <token or admin key>` or the session cookie on HTTP;
//! `?token=` (or the bearer header) on sockets, never the cookie, so that a socket token is
//! always a short-lived one scoped by the editor.

use crate::error::StoreError;
use std::cell::RefCell;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{Env, Request, Response};

use crate::access::policy::{self, Role, Scope, TokenRequest};
use crate::access::throttle::Throttle;
use crate::access::token::{
    bearer, cookie, invitation_key, AuthError, Claims, Keys, Purpose, SESSION_COOKIE,
};
use crate::doc_id::DocId;
use crate::limits::{
    AUTHOR_REQUESTS_PER_SEC, AUTHOR_REQUEST_BURST, MAX_BODY_BYTES, MAX_PREVIEW_TTL_SECS,
    MAX_SIGN_IN_BODY_BYTES, MAX_THROTTLED_CLIENTS, PREVIEW_TTL_SECS, SESSION_TTL_SECS,
    SIGN_IN_BURST, SIGN_IN_PER_SEC,
};
use crate::time::iso8601;
use crate::time::Secs;

use super::error::{EdgeError, Result};
use super::http::{json_body as body, json_response};
use super::storage::d1;

/// The header carrying the verified identity from the worker to a document's object.
pub const IDENTITY_HEADER: &str = "Folio-Identity";

thread_local! {
    static AUTHORS: RefCell<Throttle> = RefCell::new(Throttle::new(
        AUTHOR_REQUESTS_PER_SEC, AUTHOR_REQUEST_BURST, MAX_THROTTLED_CLIENTS));
    static SIGN_INS: RefCell<Throttle> = RefCell::new(Throttle::new(
        SIGN_IN_PER_SEC, SIGN_IN_BURST, MAX_THROTTLED_CLIENTS));
}

fn now_secs() -> Secs {
    Secs::from_millis(super::now_ms())
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

/// Charges one author request to `who`: 429 when over the limit.
///
/// # Errors
/// [`EdgeError::TooMany`].
pub fn throttle(who: &Principal) -> Result<()> {
    if who.operator {
        return Ok(());
    }
    let key = format!("u:{}:{}", who.claims.role.as_str(), who.claims.sub);
    AUTHORS
        .with(|t| t.borrow_mut().take(&key, super::now_ms()))
        .map_err(|retry_after| EdgeError::TooMany {
            what: "requests",
            retry_after,
        })
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
            expires_ms: claims.exp.to_millis(),
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
    doc: &DocId,
    req: &Request,
    who: &Claims,
    socket: bool,
) -> Result<Response> {
    let mut forwarded = req.clone_mut()?;
    forwarded
        .headers_mut()?
        .set(IDENTITY_HEADER, &identity_header(who, socket)?)?;
    send(env, doc, forwarded).await
}

/// Sends a request of the worker's own (`method` on `path`, with a JSON `body` if any) to the
/// object of `doc`, as `who`: e.g. the write that fills a document just created.
pub async fn forward_json(
    env: &Env,
    doc: &DocId,
    method: worker::Method,
    path: &str,
    body: Option<&serde_json::Value>,
    who: &Claims,
) -> Result<Response> {
    let headers = worker::Headers::new();
    headers.set(IDENTITY_HEADER, &identity_header(who, false)?)?;
    let mut init = worker::RequestInit::new();
    if let Some(body) = body {
        headers.set("Content-Type", "application/json")?;
        init.with_body(Some(body.to_string().into()));
    }
    init.with_method(method).with_headers(headers);
    let req = Request::new_with_init(&format!("https://folio.internal{path}"), &init)?;
    send(env, doc, req).await
}

fn identity_header(who: &Claims, socket: bool) -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Identity::of(who, socket))?))
}

async fn send(env: &Env, doc: &DocId, req: Request) -> Result<Response> {
    env.durable_object(super::DOCUMENTS)?
        .get_by_name(doc.as_str())?
        .fetch_with_request(req)
        .await
        .map_err(EdgeError::from)
}

fn claims_json(c: &Claims) -> serde_json::Value {
    json!({
        "user": c.sub,
        "role": c.role.as_str(),
        "doc": c.doc.as_str(),
        "expires_at": c.exp.to_millis().map(iso8601),
    })
}

/// `POST /api/tokens`: a token derived from the caller's own rights ([`auth::issue`]).
pub async fn tokens(mut req: Request, keys: &Keys, who: &Claims) -> Result<Response> {
    let request: TokenRequest = body(&mut req, MAX_BODY_BYTES).await?;
    let claims = policy::issue(who, request, now_secs())?;
    let token = keys.sign(&claims)?;
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
    SIGN_INS
        .with(|t| t.borrow_mut().take(&address(&req), super::now_ms()))
        .map_err(|retry_after| EdgeError::TooMany {
            what: "requests",
            retry_after,
        })?;
    let form: SignIn = body(&mut req, MAX_SIGN_IN_BODY_BYTES).await?;
    let now = now_secs();
    let base = match (form.key, form.invite) {
        (Some(key), None) => {
            if !keys.is_admin_key(&key) {
                return Err(EdgeError::api(
                    401,
                    "invalid_credentials",
                    "that is not the admin key",
                ));
            }
            Keys::admin()
        }
        (None, Some(invite)) => {
            let claims = keys.verify(&invite, Purpose::Invite, now)?;
            use_invitation(env, &invite, &claims).await?;
            claims
        }
        _ => {
            return Err(EdgeError::api(
                400,
                "invalid_parameter",
                "send {\"key\": <admin key>} or {\"invite\": <invitation token>}",
            ))
        }
    };
    // Never longer than the credential it came from (an invitation's own expiry).
    let claims = policy::session_claims(base, now);
    let token = keys.sign(&claims)?;
    let response = json_response(200, &claims_json(&claims))?;
    let max_age = claims.exp.since(now).min(SESSION_TTL_SECS);
    response
        .headers()
        .set("Set-Cookie", &session_cookie(&token, max_age))?;
    response.headers().set("Cache-Control", "no-store")?;
    Ok(response)
}

/// Records that `invite` was used (D1 `used_invitations`, keyed by the token's hash, so it
/// survives restarts and every isolate sees it): 401 `invitation_used` if it already was.
async fn use_invitation(env: &Env, invite: &str, claims: &Claims) -> Result<()> {
    let unavailable = |e: StoreError| {
        EdgeError::unavailable(
            "sign-in is unavailable; try again",
            format!("sign-in: D1: {e}"),
        )
    };
    let db = d1::db(env).map_err(unavailable)?;
    let expires = claims.exp.to_millis().unwrap_or(i64::MAX);
    let first = d1::use_invitation(&db, &invitation_key(invite), super::now_ms(), expires)
        .await
        .map_err(unavailable)?;
    if !first {
        return Err(EdgeError::api(
            401,
            "invitation_used",
            "this invitation was already used; ask for a new one",
        ));
    }
    Ok(())
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
    doc: &DocId,
) -> Result<Response> {
    let form: PreviewRequest = body(&mut req, MAX_BODY_BYTES).await?;
    let ttl = form.ttl_seconds.unwrap_or(PREVIEW_TTL_SECS);
    if ttl == 0 || ttl > MAX_PREVIEW_TTL_SECS {
        return Err(crate::error::Error::BadParameter {
            parameter: "ttl_seconds".into(),
            message: format!("ttl_seconds must be 1-{}", MAX_PREVIEW_TTL_SECS),
        }
        .into());
    }
    let claims = Claims {
        sub: who.sub.clone(),
        role: Role::Viewer,
        doc: Scope::Doc(doc.clone()),
        exp: now_secs().plus(ttl).min(who.exp),
        purpose: Purpose::Preview,
    };
    let token = keys.sign(&claims)?;
    let origin = req.url()?.origin().ascii_serialization();
    let mut out = claims_json(&claims);
    out["url"] = json!(format!("{origin}/preview/{doc}?token={token}"));
    json_response(201, &out)
}

/// The preview token of `GET /preview/{doc}?token=`, checked against `doc`.
pub fn preview_claims(
    req: &Request,
    keys: &Keys,
    doc: &DocId,
) -> std::result::Result<Claims, AuthError> {
    let token = query_token(req).ok_or(AuthError::Missing)?;
    let claims = keys.verify(&token, Purpose::Preview, now_secs())?;
    if claims.doc != Scope::Doc(doc.clone()) {
        return Err(AuthError::WrongDocument);
    }
    Ok(claims)
}
