//! A response body and its `Content-Encoding` lines from a server, through ferrofetch's decoding
//! layer: never a panic or a hang, never more than `max_body_size` decoded, and a failure is a
//! payload error. The first input bytes up to a NUL are the header lines (split at `\n`).
#![no_main]

use _core::fuzzing::{decode_body, ErrorKind};
use libfuzzer_sys::fuzz_target;

const LIMIT: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (&data[..0], data),
    };
    let lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    match decode_body(&lines, body.to_vec(), LIMIT) {
        Ok(decoded) => assert!(decoded.len() as u64 <= LIMIT),
        Err(kind) => assert!(
            matches!(kind, ErrorKind::Payload | ErrorKind::BodyTooLarge),
            "{kind:?}"
        ),
    }
});
