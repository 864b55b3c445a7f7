#![no_main]
// See folio::fuzzing::write for what this target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| folio::fuzzing::write(data));
