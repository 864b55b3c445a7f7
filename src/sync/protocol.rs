//! The y-protocols wire format (sync + awareness), as `y-websocket` speaks it: one message per
//! binary frame, `varuint type` first.
//!
//! Sync messages are decoded and encoded with `yrs::sync`. Awareness payloads are parsed here
//! strictly, because every other peer parses what we relay: client ids must be JavaScript-safe
//! integers and states must be small JSON, or a single hostile client could break every editor's
//! awareness handling. Declared counts are checked against the bytes that follow them before
//! anything is allocated.

use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, StateVector};

use crate::error::{Error, Result};
use crate::limits::{MAX_AWARENESS_STATE_BYTES, MAX_CLIENT_ID};
use crate::sync::wire::{self, Reader};

/// y-protocols message types (`y-websocket`'s `messageSync`, `messageAwareness`, ...).
pub const MSG_SYNC: u64 = 0;
pub const MSG_AWARENESS: u64 = 1;
pub const MSG_AUTH: u64 = 2;
pub const MSG_QUERY_AWARENESS: u64 = 3;

/// One decoded client frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// The client's state vector: answer with the updates it lacks.
    SyncStep1(StateVector),
    /// The updates the server lacked (answer to our SyncStep1), as a v1 update.
    SyncStep2(Vec<u8>),
    /// A live edit, as a v1 update.
    Update(Vec<u8>),
    /// Awareness states; `json == "null"` removes a client.
    Awareness(Vec<AwarenessEntry>),
    /// The client asks for every awareness state the server knows.
    QueryAwareness,
    /// A message type this server does not act on (auth, custom, future types): the protocol
    /// says to ignore it.
    Ignored(u64),
}

/// One client's entry of an awareness update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwarenessEntry {
    pub client: u64,
    pub clock: u32,
    /// The state as JSON text; the literal `null` when the client is gone.
    pub json: String,
}

impl AwarenessEntry {
    /// Whether this entry announces that the client left.
    pub fn is_removal(&self) -> bool {
        self.json == "null"
    }
}

/// Decodes one frame with [`crate::sync::wire::Reader`] (checked lengths, never yrs's cursor).
/// Updates are only framed here; [`crate::sync::wire::check_update`] walks them before they are
/// applied.
///
/// # Errors
/// [`Error::Malformed`] when the frame is truncated, has a bad varint, declares more items than
/// it carries, or carries an awareness entry with an unsafe client id, a non-JSON state or a
/// state over [`MAX_AWARENESS_STATE_BYTES`].
pub fn decode(frame: &[u8]) -> Result<Incoming> {
    let mut r = Reader::new(frame);
    let kind = r.var_u64()?;
    match kind {
        MSG_SYNC => match r.var_u32()? {
            0 => Ok(Incoming::SyncStep1(wire::state_vector(r.buf()?)?)),
            1 => Ok(Incoming::SyncStep2(r.buf()?.to_vec())),
            2 => Ok(Incoming::Update(r.buf()?.to_vec())),
            other => Err(Error::Malformed(format!("unknown sync message {other}"))),
        },
        MSG_AWARENESS => decode_awareness(r.buf()?).map(Incoming::Awareness),
        MSG_QUERY_AWARENESS => Ok(Incoming::QueryAwareness),
        other => Ok(Incoming::Ignored(other)),
    }
}

fn decode_awareness(payload: &[u8]) -> Result<Vec<AwarenessEntry>> {
    let mut r = Reader::new(payload);
    // Each entry is at least three bytes: client id, clock, string length.
    let count = r.count(3, "awareness")?;
    let mut entries = Vec::new();
    for _ in 0..count {
        let client = r.client()?;
        let clock = r.var_u32()?;
        let json = r.string()?;
        if json.len() > MAX_AWARENESS_STATE_BYTES {
            return Err(Error::Malformed(format!(
                "awareness state of {} bytes is over the limit of {MAX_AWARENESS_STATE_BYTES}",
                json.len()
            )));
        }
        wire::check_json_nesting(json)?;
        if serde_json::from_str::<serde::de::IgnoredAny>(json).is_err() {
            return Err(Error::Malformed(format!(
                "awareness state of client {client} is not JSON"
            )));
        }
        entries.push(AwarenessEntry {
            client,
            clock,
            json: json.to_string(),
        });
    }
    Ok(entries)
}

/// Encodes a SyncStep1 carrying `sv`.
pub fn sync_step1(sv: StateVector) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()
}

/// Encodes a SyncStep2 carrying a v1 update.
pub fn sync_step2(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep2(update)).encode_v1()
}

/// Encodes a sync Update message carrying a v1 update.
pub fn update(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

/// Encodes an awareness message for `entries`. Client ids must be at most
/// [`MAX_CLIENT_ID`]: entries come from [`decode`], which enforces that.
pub fn awareness<'a>(entries: impl IntoIterator<Item = &'a AwarenessEntry>) -> Vec<u8> {
    let clients = entries
        .into_iter()
        .map(|e| {
            let entry = AwarenessUpdateEntry {
                clock: e.clock,
                json: e.json.as_str().into(),
            };
            (ClientID::new(e.client & MAX_CLIENT_ID), entry)
        })
        .collect();
    Message::Awareness(AwarenessUpdate { clients }).encode_v1()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, GetString, ReadTxn, Text, Transact};

    fn edit() -> Vec<u8> {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "hi");
        txn.encode_update_v1()
    }

    #[test]
    fn sync_messages_round_trip() {
        let u = edit();
        assert_eq!(
            decode(&update(u.clone())).unwrap(),
            Incoming::Update(u.clone())
        );
        assert_eq!(
            decode(&sync_step2(u.clone())).unwrap(),
            Incoming::SyncStep2(u.clone())
        );
        let doc = Doc::with_client_id(9);
        doc.transact_mut()
            .apply_update(yrs::Update::decode_v1(&u).unwrap())
            .unwrap();
        assert_eq!(
            doc.get_or_insert_text("t").get_string(&doc.transact()),
            "hi"
        );
        let sv = doc.transact().state_vector();
        assert_eq!(
            decode(&sync_step1(sv.clone())).unwrap(),
            Incoming::SyncStep1(sv)
        );
    }

    #[test]
    fn awareness_round_trips_and_removal_is_null() {
        let entries = vec![
            AwarenessEntry {
                client: 42,
                clock: 3,
                json: r#"{"user":{"name":"Ada"}}"#.into(),
            },
            AwarenessEntry {
                client: MAX_CLIENT_ID,
                clock: 4,
                json: "null".into(),
            },
        ];
        let Incoming::Awareness(mut back) = decode(&awareness(&entries)).unwrap() else {
            panic!("not awareness")
        };
        back.sort_by_key(|e| e.client);
        assert_eq!(back, entries);
        assert!(back[1].is_removal());
    }

    #[test]
    fn query_awareness_and_unknown_types() {
        assert_eq!(decode(&[3]).unwrap(), Incoming::QueryAwareness);
        assert_eq!(decode(&[2, 0]).unwrap(), Incoming::Ignored(2));
        assert_eq!(decode(&[100, 1, 2, 3]).unwrap(), Incoming::Ignored(100));
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let bad: Vec<Vec<u8>> = vec![
            vec![],                                      // empty
            vec![0x80],                                  // truncated varint
            vec![0xff; 12],                              // overlong varint
            vec![0],                                     // sync without subtype
            vec![0, 9, 0],                               // unknown sync subtype
            vec![0, 2, 10, 1],                           // update declares 10 bytes, carries 1
            vec![0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0x0f], // sv declares 2^32-1 entries
            vec![1, 3, 200, 1, 0],                       // awareness declares 200 entries
            vec![1],                                     // awareness without payload
        ];
        for frame in bad {
            assert!(
                matches!(decode(&frame), Err(Error::Malformed(_))),
                "frame {frame:?} decoded as {:?}",
                decode(&frame)
            );
        }
    }

    #[test]
    fn awareness_with_unsafe_client_id_or_non_json_state_is_refused() {
        let mut payload = vec![1];
        // client id 2^53 (not JS-safe), clock 1, state "{}"
        let mut id = 1u64 << 53;
        while id >= 0x80 {
            payload.push((id as u8 & 0x7f) | 0x80);
            id >>= 7;
        }
        payload.extend([id as u8, 1, 2, b'{', b'}']);
        let mut frame = vec![1, payload.len() as u8];
        frame.extend(&payload);
        assert!(matches!(decode(&frame), Err(Error::Malformed(m)) if m.contains("safe")));

        let frame = [1, 5, 1, 1, 1, 1, b'{'];
        assert!(matches!(decode(&frame), Err(Error::Malformed(m)) if m.contains("JSON")));
    }
}
