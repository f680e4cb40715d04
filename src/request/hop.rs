//! Sending one hop: to the network, or to the mock router while one is installed; and what the
//! log hears of it (a connection opened or reused, a redirect).

use reqwest::header::LOCATION;
use reqwest::Url;

use crate::engine::pool::Engine;
use crate::request::error::{redact, FetchError, FetchResult};
use crate::request::mock::{self, Answer};
use crate::runtime::scope;

/// Sends `request` and waits for the response head; failures are mapped to [`FetchError`].
pub async fn send(engine: &Engine, request: reqwest::Request) -> FetchResult<reqwest::Response> {
    let request = if mock::installed() {
        match mock::answer(engine, request).await? {
            Answer::Response(response) => {
                log_redirect(&response);
                return Ok(response);
            }
            Answer::Network(request) => request,
        }
    } else {
        request
    };
    let url = request.url().clone();
    let response = engine
        .http
        .execute(request)
        .await
        .map_err(|e| FetchError::from_send(&e, url.as_str(), &engine.config.timeouts()))?;
    if scope::debug_enabled() {
        let opened = crate::engine::connections::first_use(&response);
        scope::debug("connection", || {
            let origin = url.origin().ascii_serialization();
            match (opened, response.version()) {
                (true, version) => format!("opened a new connection to {origin} ({version:?})"),
                (false, version) => format!("reused a pooled connection to {origin} ({version:?})"),
            }
        });
    }
    log_redirect(&response);
    Ok(response)
}

/// A redirect response at DEBUG; one from https to http at WARNING, since following it sends
/// the next request (and whatever it carries) in clear text.
fn log_redirect(response: &reqwest::Response) {
    if !response.status().is_redirection() {
        return;
    }
    let Some(location) = response.headers().get(LOCATION) else {
        return;
    };
    let url = response.url();
    let target = crate::response::head::value_text(location);
    let next = url.join(target.trim()).ok();
    if url.scheme() == "https" && next.as_ref().is_some_and(|n| n.scheme() == "http") {
        scope::warning(
            "redirect",
            format!(
                "{} redirect from {} to plain http: {}",
                response.status().as_u16(),
                redact(url.as_str()),
                next.as_ref()
                    .map(|n| redact(n.as_str()))
                    .unwrap_or_default()
            ),
        );
        return;
    }
    scope::debug("redirect", || {
        format!(
            "{} redirect from {} to {}",
            response.status().as_u16(),
            redact(url.as_str()),
            next.as_ref().map(Url::as_str).map(redact).unwrap_or(target)
        )
    });
}
