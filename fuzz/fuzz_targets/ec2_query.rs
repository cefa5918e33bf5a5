//! Feeds arbitrary bytes to the ec2_query codec (see `ingot_protocol::fuzzing::ec2_query` for the framing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ingot_protocol::fuzzing::ec2_query(data);
});
