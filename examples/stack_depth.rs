//! Measures how deep yrs can recurse on the stack that ships (`make stack`): built for
//! wasm32-wasip1 in release (the worker's profile: 1 MiB wasm stack, V8's native stack under
//! Node), run with `value N` or `types N`, it exits 0 when yrs survived nesting `N` deep:
//!
//! - `value N`: an update holding one value nested N arrays deep, decoded by yrs (bypassing
//!   `folio::sync::wire`, which refuses it past `MAX_VALUE_NESTING`);
//! - `types N`: a chain of N nested XML elements built, deleted (yrs deletes nested types
//!   recursively), garbage-collected and encoded, then read by `content::extract`.
//!
//! `bench/stack.mjs` bisects the largest N that passes and prints bytes of stack per level.

use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, WriteTxn, XmlElementPrelim, XmlFragment};

fn value(n: usize) {
    // One struct by client 5 at clock 0 in root map "m", key "k", holding one Any value.
    let mut u = vec![1, 1, 5, 0, 8 | 0x20, 1, 1, b'm', 1, b'k', 1];
    for _ in 0..n {
        u.extend([117, 1]);
    }
    u.extend([126, 0]);
    let update = yrs::Update::decode_v1(&u).expect("decodes");
    let doc = Doc::new();
    doc.transact_mut().apply_update(update).expect("applies");
}

fn types(n: usize) {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        let body = txn.get_or_insert_xml_fragment("body");
        let mut parent = body.insert(&mut txn, 0, XmlElementPrelim::empty("blockquote"));
        for _ in 1..n {
            parent = parent.insert(&mut txn, 0, XmlElementPrelim::empty("blockquote"));
        }
    }
    let _ = folio::content::extract(&doc).expect("extracts");
    {
        let mut txn = doc.transact_mut();
        let body = txn.get_or_insert_xml_fragment("body");
        body.remove_range(&mut txn, 0, 1);
    }
    let _ = doc
        .transact()
        .encode_state_as_update_v1(&Default::default());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    match args.get(1).map(String::as_str) {
        Some("value") => value(n),
        Some("types") => types(n),
        _ => {
            eprintln!("usage: stack_depth value|types N");
            std::process::exit(2);
        }
    }
}
