//! Replays the fuzz corpus through the fuzz targets' functions (`folio::fuzzing`): the
//! checked-in seeds of valid and known-bad inputs (`fuzz/seeds/`, from `fuzz/make-seeds.mjs`),
//! and inputs that once broke an invariant (`fuzz/regressions/`). What a local `make fuzz`
//! grows in `fuzz/corpus/` is not checked in and not replayed here. Every input must pass
//! each target's invariants within a bounded time.

use std::path::Path;
use std::time::{Duration, Instant};

/// A generous bound per input (debug build, shared CI machine); typical inputs take < 10 ms.
const PER_INPUT: Duration = Duration::from_secs(5);

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).expect("readable corpus file");
            let started = Instant::now();
            run(&data);
            let took = started.elapsed();
            assert!(took < PER_INPUT, "{} took {took:?}", entry.path().display());
            count += 1;
        }
    }
    assert!(count > 0, "no corpus for {target}");
    println!("{target}: {count} inputs replayed");
}

#[test]
fn frames() {
    replay("frames", folio::fuzzing::frames);
}

#[test]
fn update() {
    replay("update", folio::fuzzing::update);
}

#[test]
fn token() {
    replay("token", folio::fuzzing::token);
}

#[test]
fn render() {
    replay("render", folio::fuzzing::render);
}

#[test]
fn schema() {
    replay("schema", folio::fuzzing::schema);
}

#[test]
fn media() {
    replay("media", folio::fuzzing::media);
}

#[test]
fn write() {
    replay("write", folio::fuzzing::write);
}
