//! A `Location` header from a server, resolved against the current URL: either refused, or an
//! http(s) URL with a host. The first line of the input picks the base, the rest is the header.
#![no_main]

use _core::fuzzing::redirect_target;
use libfuzzer_sys::fuzz_target;

const BASES: [&str; 4] = [
    "http://127.0.0.1:8080/a/b?c=d",
    "https://example.test/",
    "http://[::1]/x/",
    "https://xn--bcher-kva.example/p;q",
];

fuzz_target!(|data: (u8, &str)| {
    let (which, location) = data;
    let base = url::Url::parse(BASES[usize::from(which) % BASES.len()]).expect("valid base");
    if let Ok(next) = redirect_target(&base, location) {
        assert!(matches!(next.scheme(), "http" | "https"), "{next}");
        assert!(next.host_str().is_some_and(|h| !h.is_empty()), "{next}");
    }
});
