//! Roles, document scopes, and what a principal may do or grant.
//!
//! Roles are ordered: a role may do everything the roles below it may.
//!
//! | role   | may                                                                  |
//! |--------|----------------------------------------------------------------------|
//! | viewer | read drafts: live read-only socket, state, draft, versions, schedule |
//! | writer | + edit drafts over the socket, create documents, preview links       |
//! | editor | + publish, unpublish, schedule, restore, issue tokens to others      |
//! | admin  | + issue admin tokens (the admin key itself is an admin)              |
//!
//! Anonymous readers get the reader API (published content) only.

use serde::{Deserialize, Serialize};

use super::token::{validate, AuthError, Claims, Purpose};
use crate::doc_id::DocId;
use crate::limits::{
    API_TTL_SECS, INVITE_TTL_SECS, MAX_API_TTL_SECS, MAX_INVITE_TTL_SECS, SESSION_TTL_SECS,
};
use crate::time::Secs;

/// What a principal may do, in increasing order of power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Writer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Writer => "writer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "writer" => Some(Role::Writer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether this role may change a document's content.
    pub fn can_edit(self) -> bool {
        self >= Role::Writer
    }
}

/// The documents a token covers: all of them (`"*"` in the token's JSON) or one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    All,
    Doc(DocId),
}

impl Scope {
    /// `"*"` or a document id.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "*" => Some(Scope::All),
            id => DocId::parse(id).ok().map(Scope::Doc),
        }
    }

    /// Whether this scope covers `doc` (`None`: every document is needed).
    pub fn covers(&self, doc: Option<&DocId>) -> bool {
        match self {
            Scope::All => true,
            Scope::Doc(mine) => doc == Some(mine),
        }
    }

    /// Whether this scope covers the document `id` names (parsed only when it must be).
    pub fn covers_id(&self, id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Doc(mine) => mine.as_str() == id,
        }
    }

    /// Whether everything `other` covers, this covers too.
    pub fn includes(&self, other: &Scope) -> bool {
        match other {
            Scope::All => *self == Scope::All,
            Scope::Doc(doc) => self.covers(Some(doc)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Scope::All => "*",
            Scope::Doc(doc) => doc.as_str(),
        }
    }
}

impl TryFrom<String> for Scope {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Scope, &'static str> {
        Scope::parse(&s).ok_or("doc must be \"*\" or a document id")
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> String {
        scope.as_str().to_string()
    }
}

/// Checks that `who` may do something that needs `need` on `doc` (`None`: all documents).
///
/// # Errors
/// [`AuthError::Role`], [`AuthError::WrongDocument`].
pub fn permit(who: &Claims, need: Role, doc: Option<&DocId>) -> Result<(), AuthError> {
    if who.role < need {
        return Err(AuthError::Role {
            have: who.role,
            need,
        });
    }
    if !who.covers(doc) {
        return Err(AuthError::WrongDocument);
    }
    Ok(())
}

/// The body of `POST /api/tokens`; every field defaults to the issuer's own.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub user: Option<String>,
    pub role: Option<Role>,
    pub doc: Option<String>,
    pub ttl_seconds: Option<u64>,
    /// `api` (default) or `invite`.
    #[serde(rename = "use")]
    pub purpose: Option<Purpose>,
}

/// The claims `issuer` may grant for `req` at `now`: never more role, scope or time than the
/// issuer has. Anyone may derive a token for themselves (the editor's socket tokens); tokens
/// for another user, and invitations, need editor or admin.
///
/// # Errors
/// [`AuthError::BadRequest`], [`AuthError::Exceeds`], [`AuthError::Role`].
pub fn issue(issuer: &Claims, req: TokenRequest, now: Secs) -> Result<Claims, AuthError> {
    let purpose = req.purpose.unwrap_or(Purpose::Api);
    let (default_ttl, max_ttl) = match purpose {
        Purpose::Api => (API_TTL_SECS, MAX_API_TTL_SECS),
        Purpose::Invite => (INVITE_TTL_SECS, MAX_INVITE_TTL_SECS),
        Purpose::Session | Purpose::Preview => {
            return Err(AuthError::BadRequest(
                "use must be \"api\" or \"invite\" (sign in for a session; POST \
                 /api/docs/{id}/preview for a preview link)"
                    .into(),
            ))
        }
    };
    let ttl = req.ttl_seconds.unwrap_or(default_ttl);
    if ttl == 0 || ttl > max_ttl {
        return Err(AuthError::BadRequest(format!(
            "ttl_seconds must be 1-{max_ttl}"
        )));
    }
    let claims = Claims {
        sub: req.user.unwrap_or_else(|| issuer.sub.clone()),
        role: req.role.unwrap_or(issuer.role),
        doc: match req.doc {
            Some(doc) => Scope::parse(&doc).ok_or_else(|| {
                AuthError::BadRequest("doc must be \"*\" or a document id".into())
            })?,
            None => issuer.doc.clone(),
        },
        exp: now.plus(ttl).min(issuer.exp),
        purpose,
    };
    validate(&claims)?;
    if claims.role > issuer.role {
        return Err(AuthError::Exceeds("role"));
    }
    if !issuer.doc.includes(&claims.doc) {
        return Err(AuthError::Exceeds("document scope"));
    }
    if (claims.sub != issuer.sub || purpose == Purpose::Invite) && issuer.role < Role::Editor {
        return Err(AuthError::Role {
            have: issuer.role,
            need: Role::Editor,
        });
    }
    if claims.exp <= now {
        return Err(AuthError::Expired);
    }
    Ok(claims)
}

/// The claims of a session signed in with `base` (the admin key's, or an invitation's) at
/// `now`: [`SESSION_TTL_SECS`] long, but never beyond `base`'s own expiry, so a session minted
/// from an invitation (or an invitation minted by a session) never extends access.
pub fn session_claims(base: Claims, now: Secs) -> Claims {
    Claims {
        exp: now.plus(SESSION_TTL_SECS).min(base.exp),
        purpose: Purpose::Session,
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_all_documents_or_one() {
        let one = Scope::parse("doc-1").unwrap();
        assert_eq!(Scope::parse("*"), Some(Scope::All));
        assert_eq!(Scope::parse("../x"), None);
        let id = DocId::parse("doc-1").unwrap();
        assert!(one.covers(Some(&id)) && one.covers_id("doc-1"));
        assert!(!one.covers(None) && !one.covers_id("doc-2"));
        assert!(Scope::All.covers(None) && Scope::All.covers_id("anything"));
        assert!(Scope::All.includes(&one) && one.includes(&one));
        assert!(!one.includes(&Scope::All));
        let json = serde_json::to_string(&Scope::All).unwrap();
        assert_eq!(json, "\"*\"", "tokens keep their format");
    }
}
