//! The Durable Object of one document: accepts y-websocket connections with the WebSocket
//! Hibernation API and runs a [`Room`] over its SQLite storage.
//!
//! State that must survive hibernation lives in storage (the document) or in each socket's
//! attachment (the awareness ids it owns, [`Conn`]); the [`Room`] is rebuilt from them on the
//! first event after a wake. Nothing here awaits while holding the room's `RefCell` borrow:
//! every handler is synchronous inside.

use std::cell::RefCell;

use worker::{
    console_error, console_log, durable_object, DurableObject, Env, Request, Response, Result,
    Socket, State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

use crate::error::{close, Error};
use crate::room::{farewell, Conn, Room};
use crate::routes::Route;

use super::json_error;
use super::sql::SqlStore;

#[durable_object]
pub struct DocumentObject {
    state: State,
    room: RefCell<Option<Room<SqlStore>>>,
}

fn conn_of(ws: &WebSocket) -> Conn {
    // A missing or unreadable attachment means the socket announced no awareness yet.
    match ws.deserialize_attachment::<String>() {
        Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_default(),
        _ => Conn::default(),
    }
}

fn save_conn(ws: &WebSocket, conn: &Conn) {
    if let Ok(json) = serde_json::to_string(conn) {
        if let Err(e) = ws.serialize_attachment(json) {
            console_error!("saving a socket attachment failed: {e}");
        }
    }
}

impl DocumentObject {
    /// Runs `f` on the room, loading it first if needed. Drops the room after a storage or
    /// internal error so the next event loads it again from storage.
    fn with_room<T>(
        &self,
        f: impl FnOnce(&mut Room<SqlStore>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut slot = self.room.borrow_mut();
        let room = match slot.as_mut() {
            Some(room) => room,
            None => {
                let sql = SqlStore::open(self.state.storage().sql())?;
                slot.insert(Room::open(sql)?)
            }
        };
        let result = f(room);
        if let Err(e @ (Error::Storage(_) | Error::Internal(_) | Error::Corrupt(_))) = &result {
            console_error!(
                "document {:?}: {e}; dropping the in-memory room",
                self.state.id().to_string()
            );
            *slot = None;
        }
        result
    }

    /// Sends `frame` to every connected socket but `except`, copying it into JS once.
    fn broadcast(&self, except: Option<&WebSocket>, frame: &[u8]) {
        let buffer = js_sys::Uint8Array::from(frame).buffer();
        for ws in self.state.get_websockets() {
            if Some(&ws) == except {
                continue;
            }
            let raw: &web_sys::WebSocket = ws.as_ref();
            // A socket that is closing refuses sends; its close event cleans up.
            let _ = raw.send_with_array_buffer(&buffer);
        }
    }

    /// Closes `ws` with `code`/`reason`, telling the others its awareness states are gone.
    fn drop_socket(&self, ws: &WebSocket, code: u16, reason: &str) {
        let mut conn = conn_of(ws);
        let gone = match self.room.borrow_mut().as_mut() {
            Some(room) => room.disconnect(&mut conn),
            None => farewell(&mut conn),
        };
        save_conn(ws, &conn);
        if let Some(frame) = gone {
            self.broadcast(Some(ws), &frame);
        }
        // Fails if the socket is already closed, which is the outcome we want anyway.
        let _ = ws.close(Some(code), Some(reason));
    }

    fn accept(&self) -> Result<Response> {
        let greeting = match self.with_room(|room| room.greeting()) {
            Ok(frames) => frames,
            Err(e) => return error_response(&e),
        };
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        for frame in greeting {
            pair.server.send_with_bytes(frame)?;
        }
        Response::from_websocket(pair.client)
    }

    fn document_state(&self) -> Result<Response> {
        let result = self.with_room(|room| {
            if room.is_empty() {
                return Err(Error::UnknownDocument);
            }
            let head = room.store().head();
            let stats = (head.generation, head.bytes, room.store().log_len());
            Ok((room.encode_state()?, stats))
        });
        match result {
            Ok((bytes, (generation, snapshot_bytes, log_len))) => {
                let response = Response::from_bytes(bytes)?;
                let headers = response.headers();
                headers.set("Content-Type", "application/octet-stream")?;
                headers.set("Cache-Control", "no-store")?;
                // Storage diagnostics for operators and tests: how the state is persisted.
                headers.set("Folio-Snapshot-Generation", &generation.to_string())?;
                headers.set("Folio-Snapshot-Bytes", &snapshot_bytes.to_string())?;
                headers.set("Folio-Log-Entries", &log_len.to_string())?;
                Ok(response)
            }
            Err(e) => error_response(&e),
        }
    }
}

impl DocumentObject {
    fn draft(&self, id: &str) -> Result<Response> {
        let result = self.with_room(|room| {
            if room.is_empty() {
                return Err(Error::UnknownDocument);
            }
            crate::content::extract(room.doc())
        });
        match result {
            Ok(content) => super::json_response(200, &crate::render::document_json(id, &content)),
            Err(e) => error_response(&e),
        }
    }
}

fn error_response(e: &Error) -> Result<Response> {
    let (status, code) = e.http_status();
    json_error(status, code, &e.to_string())
}

impl DurableObject for DocumentObject {
    fn new(state: State, _env: Env) -> Self {
        // Once per start or wake from hibernation: operators (and tests) see object lifetimes.
        console_log!("document object constructed");
        Self {
            state,
            room: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let upgrade = req
            .headers()
            .get("Upgrade")?
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if upgrade {
            return self.accept();
        }
        let path = req.path();
        match Route::parse(req.method().as_ref(), &path) {
            Ok(Route::DocState { .. }) => return self.document_state(),
            Ok(Route::Draft { doc }) => return self.draft(doc),
            _ => {}
        }
        json_error(404, "not_found", "no such route on a document")
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let frame = match message {
            WebSocketIncomingMessage::Binary(frame) => frame,
            WebSocketIncomingMessage::String(_) => {
                let e = Error::TextFrame;
                self.drop_socket(&ws, e.close_code(), &e.close_reason());
                return Ok(());
            }
        };
        let mut conn = conn_of(&ws);
        match self.with_room(|room| room.receive(&mut conn, &frame)) {
            Ok(outcome) => {
                for reply in outcome.reply {
                    ws.send_with_bytes(reply)?;
                }
                if outcome.conn_changed {
                    save_conn(&ws, &conn);
                }
                if let Some(frame) = outcome.broadcast {
                    self.broadcast(Some(&ws), &frame);
                }
            }
            Err(e @ (Error::Storage(_) | Error::Internal(_) | Error::Corrupt(_))) => {
                // The room was dropped: every editor reconnects and resyncs from storage, and
                // the sender re-sends what storage may have missed.
                for socket in self.state.get_websockets() {
                    self.drop_socket(&socket, e.close_code(), &e.close_reason());
                }
            }
            Err(e) => {
                console_error!("closing a socket: {e}");
                self.drop_socket(&ws, e.close_code(), &e.close_reason());
            }
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        self.drop_socket(&ws, close::NORMAL, "closed");
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, error: worker::Error) -> Result<()> {
        console_error!("socket error: {error}");
        self.drop_socket(&ws, close::INTERNAL_ERROR, "socket error");
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        // No alarms are set yet (scheduling arrives with publishing); one that fires anyway
        // has nothing to do.
        Response::ok("no scheduled work")
    }

    async fn connect(&self, mut socket: Socket) -> Result<()> {
        // Documents speak HTTP and WebSocket only.
        let _ = socket.close().await;
        Err(worker::Error::RustError(
            "documents do not accept TCP connections".into(),
        ))
    }
}
