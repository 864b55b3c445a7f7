#![no_main]
// See folio::fuzzing::schema for what this target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| folio::fuzzing::schema(data));
