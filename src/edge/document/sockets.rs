//! The document's y-websocket connections: accepting them, their messages (applied by the
//! room, relayed by the cadence), closes, errors and token expiries.

use wasm_bindgen::prelude::wasm_bindgen;
use worker::{console_error, console_log, Response, WebSocket, WebSocketPair};

use super::DocumentObject;
use crate::access::Route;
use crate::edge::access::Identity;
use crate::edge::error::{EdgeError, Result};
use crate::edge::http::now_ms;
use crate::error::{close, Error};
use crate::publish::plan::{self, TouchPlan};
use crate::sync::Conn;

impl DocumentObject {
    /// A WebSocket upgrade: only on the sync route, forwarded as such by the worker, and not
    /// while its user is in the penalty box.
    pub(super) async fn connect(
        &self,
        route: &std::result::Result<Route<'_>, crate::access::RouteError>,
        identity: &Identity,
    ) -> Result<Response> {
        if !matches!(route, Ok(Route::Sync { .. })) || !identity.socket {
            return Err(EdgeError::api(
                400,
                "upgrade_not_allowed",
                "WebSockets are served on /sync/{doc} only",
            ));
        }
        let refused = self.penalties.borrow().refused(&identity.user, now_ms());
        if let Some(retry_after) = refused {
            return Err(EdgeError::TooMany {
                what: "refused frames",
                retry_after,
            });
        }
        let response = self.accept(identity)?;
        if let Some(at) = identity.expires_ms {
            self.alarm_by(at).await;
        }
        Ok(response)
    }

    fn accept(&self, identity: &Identity) -> Result<Response> {
        let greeting = self.live.with_settled_room(|room| room.greeting())?;
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        // A random key names this connection's budget in the room.
        let conn = Conn {
            key: crate::sync::store::fresh_client_id(),
            user: identity.user.clone(),
            read_only: !identity.role.can_edit(),
            expires_ms: identity.expires_ms,
            ..Conn::default()
        };
        self.live.add(pair.server.clone(), conn);
        for frame in greeting {
            pair.server.send_with_bytes(frame)?;
        }
        Ok(Response::from_websocket(pair.client)?)
    }

    /// Closes `ws` for what it sent (`e`). If its client would send the same again on
    /// reconnecting, its user's new sockets are refused for a while (the penalty box).
    fn refuse(&self, ws: &WebSocket, conn: &Conn, e: &Error) {
        console_error!("closing a socket: {e}");
        if e.is_repeatable_refusal() {
            let ms = self.penalties.borrow_mut().strike(&conn.user, now_ms());
            console_log!("refusing new sockets of {:?} for {ms} ms", conn.user);
        }
        self.live.drop_socket(ws, e.close_code(), &e.close_reason());
    }

    /// An edit was accepted at `now`: the registry row is refreshed as [`plan::Touch`] says,
    /// the trailing refresh armed in the background (the socket handlers do not await).
    pub(super) fn edited(&self, now: i64) {
        self.updated(now);
        let touch = self.touch.borrow_mut().edited(now);
        match touch {
            TouchPlan::Now => self.touch_registry(None),
            TouchPlan::AlarmBy(due) => {
                let storage = self.state.storage();
                worker::wasm_bindgen_futures::spawn_local(async move {
                    super::alarm::alarm_by(&storage, due).await;
                });
            }
            TouchPlan::Nothing => {}
        }
    }

    /// The earliest token expiry still ahead of a connected socket (ms).
    pub(super) fn next_expiry(&self) -> Option<i64> {
        plan::next_expiry(now_ms(), self.live.conns().into_iter().map(|(_, at)| at))
    }

    /// Closes the sockets whose token has expired (4001), so their clients reconnect with a
    /// fresh token even if they are idle.
    pub(super) fn close_expired(&self) {
        let now = now_ms();
        for (ws, expires) in self.live.conns() {
            if expires.is_some_and(|at| at <= now) {
                let e = Error::TokenExpired;
                self.live
                    .drop_socket(&ws, e.close_code(), &e.close_reason());
            }
        }
    }
}

/// The WebSocket handlers, bound by hand and synchronous. The `#[durable_object]` macro binds
/// async ones, and each call through them costs a promise, a task and a microtask: about a
/// fifth of the isolate's time at 1,000 edits/s (`make profile`). Nothing here awaits; what
/// must wait (arming the alarm) runs in the background.
#[wasm_bindgen]
impl DocumentObject {
    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn web_socket_message(
        &self,
        ws: web_sys::WebSocket,
        message: wasm_bindgen::JsValue,
    ) -> std::result::Result<(), wasm_bindgen::JsValue> {
        let ws = WebSocket::from(ws);
        // The clock, once per event.
        let now = now_ms();
        let (slot, mut conn) = self.live.take_conn(&ws);
        if conn.closed {
            self.live.put_conn(slot, conn, false);
            return Ok(()); // sent before we closed it: dropped unread
        }
        if message.is_string() {
            self.live.put_conn(slot, conn.clone(), false);
            self.refuse(&ws, &conn, &Error::TextFrame);
            return Ok(());
        }
        let frame = js_sys::Uint8Array::new(&message).to_vec();
        let received = self.live.with_room(|room| {
            room.spend(&conn, frame.len(), now)?;
            room.receive(&mut conn, &frame)
        });
        match received {
            Ok(outcome) => {
                self.live.put_conn(slot, conn, outcome.conn_changed);
                for reply in outcome.reply {
                    ws.send_with_bytes(reply)?;
                }
                if outcome.queued {
                    self.live.queued(now, outcome.edited);
                }
                if outcome.edited {
                    self.edited(now);
                }
            }
            Err(e @ (Error::Storage(_) | Error::Internal(_) | Error::Corrupt(_))) => {
                // The room was dropped: every editor reconnects and resyncs from storage, and
                // the sender re-sends what storage may have missed.
                self.live.put_conn(slot, conn, false);
                self.live.drop_all(&e);
            }
            Err(e) => {
                self.live.put_conn(slot, conn.clone(), false);
                self.refuse(&ws, &conn, &e);
            }
        }
        Ok(())
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn web_socket_close(
        &self,
        ws: web_sys::WebSocket,
        _code: u16,
        _reason: String,
        _clean: bool,
    ) {
        self.live
            .drop_socket(&WebSocket::from(ws), close::NORMAL, "closed");
        // The last edits since the previous touch.
        if self.touch.borrow().closed() == TouchPlan::Now {
            self.touch_registry(None);
        }
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn web_socket_error(&self, ws: web_sys::WebSocket, error: wasm_bindgen::JsValue) {
        console_error!("socket error: {error:?}");
        self.live
            .drop_socket(&WebSocket::from(ws), close::INTERNAL_ERROR, "socket error");
    }
}
