//! Text shown in an exception or a redirect history never carries URL credentials, whether or
//! not it parses as a URL: no userinfo when it parses, no `@` in what a lenient parser would
//! take for the authority (after the first `:` and any slashes) when it does not.
#![no_main]

use _core::fuzzing::redact;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let shown = redact(raw);
    if let Ok(url) = url::Url::parse(&shown) {
        assert!(url.username().is_empty(), "{raw:?} -> {shown:?}");
        assert!(url.password().is_none(), "{raw:?} -> {shown:?}");
    } else if let Some(colon) = shown.find(':') {
        let rest = shown[colon + 1..].trim_start_matches(['/', '\\']);
        let authority = &rest[..rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len())];
        assert!(!authority.contains('@'), "{raw:?} -> {shown:?}");
    }
});
