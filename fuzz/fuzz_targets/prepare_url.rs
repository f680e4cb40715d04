//! A URL given by a user: either refused, or an http(s) URL with a host, free of control
//! characters, that parses back to the same URL (so pool key, SNI and proxy choice agree).
#![no_main]

use _core::fuzzing::prepare_url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let params = [("q".to_owned(), raw.chars().take(8).collect::<String>())];
    for params in [&params[..0], &params[..]] {
        let Ok(url) = prepare_url(raw, params) else {
            continue;
        };
        assert!(matches!(url.scheme(), "http" | "https"), "{url}");
        assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{url}");
        assert!(!url.as_str().chars().any(char::is_control), "{url:?}");
        let again = url::Url::parse(url.as_str()).expect("a prepared URL parses again");
        assert_eq!(again, url);
    }
});
