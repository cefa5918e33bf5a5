//! Feeds arbitrary bytes to the rest_json codec (see `ingot_protocol::fuzzing::rest_json` for the framing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ingot_protocol::fuzzing::rest_json(data);
});
