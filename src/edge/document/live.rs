//! The live part of a document's object, in memory: its [`Room`], its sockets with their
//! [`Conn`]s, and the coalescing [`Cadence`]. Shared (`Rc`) with the flush timer.
//!
//! Per message the object does one map lookup for the socket's `Conn` (no attachment read),
//! reads the clock once, and sends nothing itself: what the message queued goes out with the
//! next flush, one frame per receiver (see `room`'s "Coalescing"). A socket's attachment is
//! written only when its `Conn` changes; it is what rebuilds this list after hibernation.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use wasm_bindgen::prelude::{wasm_bindgen, Closure};
use wasm_bindgen::{JsCast, JsValue};
use worker::{console_error, State, WebSocket};

use crate::error::Error;
use crate::sync::{farewell, Cadence, Conn, Room, When};

use crate::edge::storage::sqlite::SqlStore;

/// One accepted socket.
struct Socket {
    ws: WebSocket,
    conn: Conn,
}

pub struct Live {
    /// The object's state (a JS handle), for the runtime's socket list.
    state: worker::worker_sys::DurableObjectState,
    sql: worker::SqlStorage,
    room: RefCell<Option<Room<SqlStore>>>,
    sockets: RefCell<Sockets>,
    cadence: RefCell<Cadence>,
    /// The flush timer's callback, made once: a `setTimeout` with it costs one call into JS,
    /// where a spawned future with a `Delay` cost a task, a closure and microtasks per flush.
    flush_timer: Closure<dyn FnMut()>,
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> JsValue;
}

/// The sockets by a slot number, the JS map from socket to slot (JS object identity), and the
/// slot of each [`Conn::key`].
///
/// The runtime hands every event of a socket the same JS object, but not the object accepted
/// from the `WebSocketPair`: a socket's first message finds no slot by identity, so it is
/// found once by the key in its attachment and its slot re-pointed at the runtime's object.
struct Sockets {
    /// Whether the list was rebuilt from the runtime's sockets (after construction or a wake).
    loaded: bool,
    next_slot: u32,
    by_slot: HashMap<u32, Socket>,
    slots: js_sys::Map,
    by_key: HashMap<u64, u32>,
}

/// A socket's [`Conn`] from its attachment. If it cannot be read, fail closed: read-only and
/// expired (closed with 4001 on its next message, so the client reconnects afresh).
pub fn conn_of(ws: &WebSocket) -> Conn {
    let closed = || Conn {
        read_only: true,
        expires_ms: Some(0),
        ..Conn::default()
    };
    match ws.deserialize_attachment::<String>() {
        Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_else(|_| closed()),
        _ => closed(),
    }
}

fn save_conn(ws: &WebSocket, conn: &Conn) {
    if let Ok(json) = serde_json::to_string(conn) {
        if let Err(e) = ws.serialize_attachment(json) {
            console_error!("saving a socket attachment failed: {e}");
        }
    }
}

/// A second handle on the object's state (`DurableObjectState` has no `Clone` of its own).
fn raw_state(
    state: &worker::worker_sys::DurableObjectState,
) -> worker::worker_sys::DurableObjectState {
    let object: &js_sys::Object = state.as_ref();
    object.clone().unchecked_into()
}

impl Live {
    pub fn new(state: &State) -> Rc<Self> {
        Rc::new_cyclic(|me: &std::rc::Weak<Live>| Live {
            state: raw_state(state.as_raw()),
            sql: state.storage().sql(),
            room: RefCell::new(None),
            sockets: RefCell::new(Sockets {
                loaded: false,
                next_slot: 0,
                by_slot: HashMap::new(),
                slots: js_sys::Map::new(),
                by_key: HashMap::new(),
            }),
            cadence: RefCell::new(Cadence::default()),
            flush_timer: {
                let me = me.clone();
                Closure::new(move || {
                    if let Some(live) = me.upgrade() {
                        live.flush(crate::edge::http::now_ms());
                    }
                })
            },
        })
    }

    /// The socket list, rebuilt from the runtime's sockets and their attachments on first use.
    fn sockets(&self) -> std::cell::RefMut<'_, Sockets> {
        let mut sockets = self.sockets.borrow_mut();
        if !sockets.loaded {
            sockets.loaded = true;
            for ws in State::from(raw_state(&self.state)).get_websockets() {
                let conn = conn_of(&ws);
                sockets.insert(ws, conn);
            }
        }
        sockets
    }

    /// Adds a socket accepted just now, saving its attachment.
    pub fn add(&self, ws: WebSocket, conn: Conn) {
        save_conn(&ws, &conn);
        self.sockets().insert(ws, conn);
    }

    /// The slot and [`Conn`] of `ws`, taken out of the list: give it back with
    /// [`Live::put_conn`]. A socket the list does not know under this object (the one accepted
    /// from the pair, or one closed by us and taken off) is read from its attachment once.
    pub fn take_conn(&self, ws: &WebSocket) -> (u32, Conn) {
        let mut sockets = self.sockets();
        let slot = match sockets.slot(ws) {
            Some(slot) => slot,
            None => {
                let conn = conn_of(ws);
                match sockets.by_key.get(&conn.key).copied() {
                    Some(slot) => {
                        sockets.repoint(slot, ws);
                        slot
                    }
                    None => return (sockets.insert(ws.clone(), Conn::default()), conn),
                }
            }
        };
        // A slot in the JS map is always in the list (both change together); were it not,
        // the attachment is the truth.
        let conn = match sockets.by_slot.get_mut(&slot) {
            Some(socket) => std::mem::take(&mut socket.conn),
            None => conn_of(ws),
        };
        (slot, conn)
    }

    /// Gives back what [`Live::take_conn`] took; saves the attachment if it `changed`.
    pub fn put_conn(&self, slot: u32, conn: Conn, changed: bool) {
        let mut sockets = self.sockets.borrow_mut();
        if let Some(socket) = sockets.by_slot.get_mut(&slot) {
            if changed {
                save_conn(&socket.ws, &conn);
            }
            socket.conn = conn;
        }
    }

    /// Every socket's [`Conn`], for a look over all of them (expiry).
    pub fn conns(&self) -> Vec<(WebSocket, Option<i64>)> {
        self.sockets()
            .by_slot
            .values()
            .filter(|s| !s.conn.closed)
            .map(|s| (s.ws.clone(), s.conn.expires_ms))
            .collect()
    }

    /// Runs `f` on the room, loading it first if needed. Drops the room after a storage or
    /// internal error so the next event loads it again from storage.
    pub fn with_room<T>(
        &self,
        f: impl FnOnce(&mut Room<SqlStore>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut slot = self.room.borrow_mut();
        let room = match slot.as_mut() {
            Some(room) => room,
            None => {
                let sql = SqlStore::open(self.sql.clone())?;
                let mut room = Room::open(sql)?;
                // Connections outlive the room (hibernation): take back their awareness claims.
                for socket in self.sockets().by_slot.values() {
                    room.adopt(&socket.conn);
                }
                slot.insert(room)
            }
        };
        let result = f(room);
        if let Err(e @ (Error::Storage(_) | Error::Internal(_) | Error::Corrupt(_))) = &result {
            console_error!("{e}; dropping the in-memory room");
            *slot = None;
        }
        result
    }

    /// [`Live::with_room`] with everything queued stored first: for whatever reads the
    /// document to send it out of the object (state, drafts, publishing, restore).
    pub fn with_settled_room<T>(
        &self,
        f: impl FnOnce(&mut Room<SqlStore>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.with_room(|room| {
            room.persist()?;
            f(room)
        })
    }

    /// Something was queued at `now` (`urgent`: a document update, not only presence):
    /// flushes now, or makes sure a timer will.
    pub fn queued(&self, now: i64, urgent: bool) {
        let receivers = self.sockets.borrow().by_slot.len();
        let when = self.cadence.borrow_mut().queued(now, receivers, urgent);
        match when {
            When::Now => self.flush(now),
            When::Pending => {}
            When::At(at) => {
                let ms = i32::try_from(at - now).unwrap_or(0).max(0);
                set_timeout(self.flush_timer.as_ref().unchecked_ref(), ms);
            }
        }
    }

    /// Stores what is queued and relays it. After a storage error nothing is relayed: the
    /// room is dropped and every socket closed (1011), so editors resync from storage and
    /// re-send what it missed.
    pub fn flush(&self, now: i64) {
        let receivers = self.sockets.borrow().by_slot.len();
        let flushed = {
            let mut slot = self.room.borrow_mut();
            match slot.as_mut() {
                Some(room) if room.has_queued() => room.flush(),
                // A timer that another flush made redundant.
                _ => {
                    self.cadence.borrow_mut().fired(now);
                    return;
                }
            }
        };
        self.cadence.borrow_mut().flushed(now, receivers);
        match flushed {
            Ok(flush) => {
                for (frame, except) in flush.frames {
                    self.broadcast(except, &frame);
                }
            }
            Err(e) => {
                console_error!("a flush failed: {e}; dropping the in-memory room");
                *self.room.borrow_mut() = None;
                self.drop_all(&e);
            }
        }
    }

    /// Forgets the room, as a restarted object would (the fault switch).
    pub fn forget_room(&self) {
        *self.room.borrow_mut() = None;
    }

    /// Closes every socket for `e` (a storage or internal error).
    pub fn drop_all(&self, e: &Error) {
        let all: Vec<WebSocket> = self
            .sockets()
            .by_slot
            .values()
            .map(|s| s.ws.clone())
            .collect();
        for ws in all {
            self.drop_socket(&ws, e.close_code(), &e.close_reason());
        }
    }

    /// Sends `frame` to every open socket but the one whose [`Conn::key`] is `except`,
    /// copying it into JS once.
    pub fn broadcast(&self, except: Option<u64>, frame: &[u8]) {
        let buffer = js_sys::Uint8Array::from(frame).buffer();
        for socket in self.sockets.borrow().by_slot.values() {
            if socket.conn.closed || Some(socket.conn.key) == except {
                continue;
            }
            let raw: &web_sys::WebSocket = socket.ws.as_ref();
            // A socket that is closing refuses sends; its close event cleans up.
            let _ = raw.send_with_array_buffer(&buffer);
        }
    }

    /// Closes `ws` with `code`/`reason`, telling the others its awareness states are gone,
    /// and takes it off the list (its attachment says it is closed, should it come back
    /// after a wake; frames it had sent already are dropped unread).
    pub fn drop_socket(&self, ws: &WebSocket, code: u16, reason: &str) {
        let (slot, mut conn) = self.take_conn(ws);
        let first = !conn.closed;
        conn.closed = true;
        let gone = match self.room.borrow_mut().as_mut() {
            Some(room) => room.disconnect(&mut conn),
            None => farewell(&mut conn),
        };
        if first {
            save_conn(ws, &conn);
        }
        self.sockets.borrow_mut().remove(slot, conn.key);
        if let Some(frame) = gone {
            self.broadcast(Some(conn.key), &frame);
        }
        // Fails if the socket is already closed, which is the outcome we want anyway.
        let _ = ws.close(Some(code), Some(reason));
    }
}

impl Sockets {
    fn slot(&self, ws: &WebSocket) -> Option<u32> {
        let raw: &JsValue = ws.as_ref();
        self.slots.get(raw).as_f64().map(|f| f as u32)
    }

    fn insert(&mut self, ws: WebSocket, conn: Conn) -> u32 {
        let slot = self.next_slot;
        self.next_slot = self.next_slot.wrapping_add(1);
        let raw: &JsValue = ws.as_ref();
        self.slots.set(raw, &JsValue::from(slot));
        if conn.key != 0 {
            self.by_key.insert(conn.key, slot);
        }
        self.by_slot.insert(slot, Socket { ws, conn });
        slot
    }

    /// Makes `slot` use `ws`, the runtime's object for the same socket.
    fn repoint(&mut self, slot: u32, ws: &WebSocket) {
        if let Some(socket) = self.by_slot.get_mut(&slot) {
            let old: &JsValue = socket.ws.as_ref();
            self.slots.delete(old);
            socket.ws = ws.clone();
        }
        let raw: &JsValue = ws.as_ref();
        self.slots.set(raw, &JsValue::from(slot));
    }

    /// Takes `slot` (of the connection with `key`) off the list.
    fn remove(&mut self, slot: u32, key: u64) {
        if let Some(socket) = self.by_slot.remove(&slot) {
            let raw: &JsValue = socket.ws.as_ref();
            self.slots.delete(raw);
        }
        if self.by_key.get(&key) == Some(&slot) {
            self.by_key.remove(&key);
        }
    }
}
