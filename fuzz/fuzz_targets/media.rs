#![no_main]
// See folio::fuzzing::media for what this target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| folio::fuzzing::media(data));
