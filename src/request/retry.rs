//! When a request is sent again: only when no response was received and sending it twice is
//! safe, as aiohttp does for a keep-alive connection the server closed just as it was reused.
//!
//! reqwest's default policy retries protocol refusals (HTTP/2 REFUSED_STREAM, a graceful
//! GOAWAY); setting a policy replaces it, so those stay here too.

use std::error::Error as StdError;

use reqwest::retry;
use reqwest::Method;

use crate::request::error::find_cause;

/// Matches every host: the policy is the same for all of them.
struct AnyHost;

impl PartialEq<&str> for AnyHost {
    fn eq(&self, _host: &&str) -> bool {
        true
    }
}

pub fn policy() -> retry::Builder {
    retry::for_host(AnyHost)
        .max_retries_per_request(1)
        .classify_fn(|attempt| {
            if should_retry(attempt.method(), attempt.error()) {
                crate::runtime::scope::debug("retry", || {
                    format!(
                        "retrying {} {}: {}",
                        attempt.method(),
                        crate::request::error::redact(&attempt.uri().to_string()),
                        attempt.error().map(|e| e.to_string()).unwrap_or_default()
                    )
                });
                attempt.retryable()
            } else {
                attempt.success()
            }
        })
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

fn should_retry(method: &Method, error: Option<&(dyn StdError + 'static)>) -> bool {
    let Some(error) = error else {
        return false;
    };
    if let Some(h2) = find_cause::<h2::Error>(error) {
        let refused = h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM);
        let going_away = h2.is_go_away() && h2.reason() == Some(h2::Reason::NO_ERROR);
        if h2.is_remote() && (refused || going_away) {
            return true;
        }
    }
    if !is_idempotent(method) {
        return false;
    }
    // A connection that was closed under the request: nothing came back, so nothing was lost.
    if find_cause::<hyper::Error>(error).is_some_and(hyper::Error::is_incomplete_message) {
        return true;
    }
    find_cause::<std::io::Error>(error).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionAborted
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, "test")
    }

    #[test]
    fn idempotent_requests_are_retried_after_a_reset() {
        let reset = io(std::io::ErrorKind::ConnectionReset);
        assert!(should_retry(&Method::GET, Some(&reset)));
        assert!(should_retry(&Method::PUT, Some(&reset)));
        assert!(!should_retry(&Method::POST, Some(&reset)));
        assert!(!should_retry(&Method::PATCH, Some(&reset)));
    }

    #[test]
    fn other_failures_and_responses_are_not_retried() {
        let refused = io(std::io::ErrorKind::ConnectionRefused);
        assert!(!should_retry(&Method::GET, Some(&refused)));
        assert!(!should_retry(&Method::GET, None));
    }
}
