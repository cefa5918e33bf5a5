//! Feeds arbitrary bytes to the aws_json codec (see `ingot_protocol::fuzzing::aws_json` for the framing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ingot_protocol::fuzzing::aws_json(data);
});
