//! One request, end to end: limits, redirects (followed here, not by reqwest), the total timeout,
//! and the body read under `max_body_size`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{
    HeaderMap, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION,
    PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};
use reqwest::{Method, StatusCode, Url};

use crate::engine::pool::{Engine, LimitPermits};
use crate::py::options::RequestOptions;
use crate::request::error::{ErrorKind, FetchError, FetchResult};
use crate::request::upload::head_within;
use crate::response::body::ReceivedBody;
use crate::response::decoding::BodyReader;
use crate::response::head::{detached, Head};

/// Longer than any real request; keeps `Instant + timeout` from overflowing.
const LONGEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// A response whose head has arrived, with the hop's connection-limit permits.
pub struct Sent {
    pub response: reqwest::Response,
    pub history: Vec<String>,
    pub method: Method,
    pub started: Instant,
    pub permits: LimitPermits,
}

/// A finished request: its head, its whole body, and the time it took from the first send to
/// the end of the body.
pub struct Fetched {
    pub head: Head,
    pub body: ReceivedBody,
    pub elapsed: Duration,
}

impl Head {
    /// Moves the head out of a sent request (the headers are taken, not copied).
    pub fn take(sent: &mut Sent) -> Head {
        let response = &mut sent.response;
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
        Head {
            url: response.url().to_string(),
            method: sent.method.clone(),
            status: response.status(),
            reason,
            version: response.version(),
            headers: detached(std::mem::take(response.headers_mut())),
            history: std::mem::take(&mut sent.history),
            started: sent.started,
        }
    }
}

/// Runs `work` under the request's total timeout and the client's close signal.
pub async fn bounded<T>(
    engine: &Engine,
    timeout: Option<f64>,
    url: &str,
    work: impl Future<Output = FetchResult<T>>,
) -> FetchResult<T> {
    let limited = async {
        match timeout {
            Some(seconds) => {
                let limit = Duration::try_from_secs_f64(seconds)
                    .unwrap_or(LONGEST_TIMEOUT)
                    .min(LONGEST_TIMEOUT);
                tokio::time::timeout(limit, work)
                    .await
                    .unwrap_or_else(|_| Err(FetchError::total_timeout(url, seconds)))
            }
            None => work.await,
        }
    };
    tokio::select! {
        biased;
        () = engine.closing.cancelled() => Err(FetchError::new(
            ErrorKind::Closed,
            Some(url),
            format!("the client was closed while the request was in flight ({url})"),
        )),
        result = limited => result,
    }
}

/// Sends the request and follows redirects as the options say, up to the final response head.
pub async fn send(engine: &Engine, options: &RequestOptions, url: Url) -> FetchResult<Sent> {
    let started = Instant::now();
    let timeouts = engine.config.timeouts();
    let mut url = url;
    let mut method = options.method.clone();
    let mut body = options.body.clone();
    let mut headers: Option<HeaderMap> = None;
    let mut history: Vec<String> = Vec::new();
    loop {
        let permits = engine.acquire(&url).await;
        let current_headers = headers.as_ref().unwrap_or(&options.headers).clone();
        let mut request = engine
            .http
            .request(method.clone(), url.clone())
            .headers(current_headers);
        let mut uploaded = None;
        if let Some(body) = &body {
            match body.to_reqwest() {
                Some((body, end)) => {
                    request = request.body(body);
                    uploaded = end;
                }
                None => {
                    return Err(FetchError::new(
                        ErrorKind::Payload,
                        Some(url.as_str()),
                        format!("a streamed request body cannot be sent again (a 307/308 redirect to {url} asked for it)"),
                    ))
                }
            }
        }
        let request = request
            .build()
            .map_err(|e| FetchError::from_send(&e, url.as_str(), &timeouts))?;
        let leader = engine.warmup.turn(&url).await;
        let exchange = crate::request::hop::send(engine, request);
        let read_timeout = timeouts
            .read
            .and_then(|s| Duration::try_from_secs_f64(s).ok());
        let response = head_within(exchange, uploaded, read_timeout)
            .await
            .ok_or_else(|| FetchError::read_timeout(url.as_str(), &timeouts))??;
        if let Some(leader) = leader {
            leader.head_arrived();
        }
        if response.headers().contains_key(TRANSFER_ENCODING)
            && response.headers().contains_key(CONTENT_LENGTH)
        {
            // Ambiguous framing (RFC 9112 6.3; request smuggling, hyper RUSTSEC-2021-0078): refused,
            // and the response is dropped unread, so its connection is closed, never reused.
            return Err(FetchError::new(
                ErrorKind::BadResponse,
                Some(url.as_str()),
                format!(
                    "the server framed its response with both Content-Length and Transfer-Encoding, which is refused ({url})"
                ),
            ));
        }
        let status = response.status();
        let Some(location) = redirect_location(options, &response) else {
            return Ok(Sent {
                response,
                history,
                method,
                started,
                permits,
            });
        };
        // The redirect's own body is never read (nor decoded): a bomb in it costs nothing.
        drop(response);
        drop(permits);
        if history.len() >= options.max_redirects {
            return Err(FetchError::new(
                ErrorKind::TooManyRedirects {
                    status: status.as_u16(),
                },
                Some(url.as_str()),
                format!(
                    "too many redirects: more than {} starting from {}",
                    options.max_redirects,
                    history.first().map(String::as_str).unwrap_or(url.as_str())
                ),
            ));
        }
        let next = redirect_target(&url, &location)?;
        let hop_headers = headers.get_or_insert_with(|| options.headers.clone());
        if changes_method_to_get(status, &method) {
            method = if method == Method::HEAD {
                Method::HEAD
            } else {
                Method::GET
            };
            body = None;
            for name in [
                CONTENT_LENGTH,
                CONTENT_TYPE,
                CONTENT_ENCODING,
                TRANSFER_ENCODING,
            ] {
                hop_headers.remove(name);
            }
        }
        if !same_origin(&url, &next) {
            for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                hop_headers.remove(name);
            }
        }
        history.push(crate::request::error::redact(url.as_str()));
        url = next;
    }
}

fn redirect_location(options: &RequestOptions, response: &reqwest::Response) -> Option<String> {
    if !options.follow_redirects {
        return None;
    }
    match response.status() {
        StatusCode::MOVED_PERMANENTLY
        | StatusCode::FOUND
        | StatusCode::SEE_OTHER
        | StatusCode::TEMPORARY_REDIRECT
        | StatusCode::PERMANENT_REDIRECT => response
            .headers()
            .get(LOCATION)
            .map(crate::py::headers::value_text),
        _ => None,
    }
}

pub fn redirect_target(current: &Url, location: &str) -> FetchResult<Url> {
    let next = current.join(location.trim()).map_err(|e| {
        FetchError::new(
            ErrorKind::InvalidRedirectUrl,
            Some(location),
            format!("the redirect from {current} points to an invalid URL: {e}"),
        )
    })?;
    match next.scheme() {
        "http" | "https" if next.host_str().is_some_and(|h| !h.is_empty()) => Ok(next),
        "http" | "https" => Err(FetchError::new(
            ErrorKind::InvalidRedirectUrl,
            Some(location),
            format!("the redirect from {current} points to a URL without a host"),
        )),
        other => Err(FetchError::new(
            ErrorKind::NonHttpRedirectUrl,
            Some(location),
            format!("the redirect from {current} points to a {other:?} URL; only http and https are followed"),
        )),
    }
}

/// 303 turns every method but HEAD into GET; 301 and 302 turn POST into GET, as browsers,
/// aiohttp and requests do. 307 and 308 keep method and body.
fn changes_method_to_get(status: StatusCode, method: &Method) -> bool {
    match status {
        StatusCode::SEE_OTHER => *method != Method::HEAD,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => *method == Method::POST,
        _ => false,
    }
}

/// Credentials follow a redirect only within one origin: same scheme, host and port.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Reads the (decoded) body whole, failing as soon as it grows past `limit`.
pub async fn read_body(
    body: &mut BodyReader,
    limit: Option<u64>,
    url: &str,
    engine: &Engine,
) -> FetchResult<ReceivedBody> {
    let timeouts = engine.config.timeouts();
    let mut received = ReceivedBody::default();
    while let Some(chunk) = body.chunk(url, &timeouts).await? {
        check_body_size((received.len() + chunk.len()) as u64, limit, url)?;
        received.push(chunk);
    }
    Ok(received.compacted())
}

pub fn check_body_size(total: u64, limit: Option<u64>, url: &str) -> FetchResult<()> {
    match limit {
        Some(limit) if total > limit => Err(FetchError::new(
            ErrorKind::BodyTooLarge,
            Some(url),
            format!(
                "the response body is larger than max_body_size ({limit} bytes decoded); reading stopped ({url})"
            ),
        )),
        _ => Ok(()),
    }
}

/// The whole request: head, redirects and body, under the total timeout.
pub async fn execute(
    engine: Arc<Engine>,
    options: Arc<RequestOptions>,
    url: Url,
) -> FetchResult<Fetched> {
    let url_text = url.to_string();
    bounded(&engine, options.timeout, &url_text, async {
        let mut sent = send(&engine, &options, url).await?;
        let head = Head::take(&mut sent);
        let mut reader =
            BodyReader::new(sent.response, &head.headers, options.decompress, &head.url);
        let body = read_body(&mut reader, options.max_body_size, &head.url, &engine).await?;
        Ok(Fetched {
            elapsed: head.started.elapsed(),
            head,
            body,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn see_other_turns_everything_but_head_into_get() {
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::GET] {
            assert!(changes_method_to_get(StatusCode::SEE_OTHER, &method));
        }
        assert!(!changes_method_to_get(StatusCode::SEE_OTHER, &Method::HEAD));
    }

    #[test]
    fn moved_and_found_turn_only_post_into_get() {
        for status in [StatusCode::MOVED_PERMANENTLY, StatusCode::FOUND] {
            assert!(changes_method_to_get(status, &Method::POST));
            assert!(!changes_method_to_get(status, &Method::PUT));
        }
        for status in [
            StatusCode::TEMPORARY_REDIRECT,
            StatusCode::PERMANENT_REDIRECT,
        ] {
            assert!(!changes_method_to_get(status, &Method::POST));
        }
    }

    #[test]
    fn origin_is_scheme_host_and_port() {
        let base = url("http://a.test/x");
        assert!(same_origin(&base, &url("http://a.test:80/y")));
        assert!(!same_origin(&base, &url("https://a.test/x")));
        assert!(!same_origin(&base, &url("http://b.test/x")));
        assert!(!same_origin(&base, &url("http://a.test:8080/x")));
    }

    #[test]
    fn redirect_targets_resolve_relative_and_refuse_other_schemes() {
        let base = url("https://a.test/dir/page");
        assert_eq!(
            redirect_target(&base, "next").unwrap().as_str(),
            "https://a.test/dir/next"
        );
        assert_eq!(
            redirect_target(&base, "//b.test/z").unwrap().as_str(),
            "https://b.test/z"
        );
        let err = redirect_target(&base, "file:///etc/passwd").unwrap_err();
        assert_eq!(err.kind, ErrorKind::NonHttpRedirectUrl);
        let err = redirect_target(&base, "http://[::1").unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRedirectUrl);
    }

    #[test]
    fn pathological_location_parses_in_linear_time() {
        let base = url("http://a.test/");
        let location = format!("http://{}a.test/", "@".repeat(50_000));
        let started = Instant::now();
        let _ = redirect_target(&base, &location);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn credentials_never_reach_an_error() {
        let raw = "http://alice:hunter2@127.0.0.1:1/x";
        let error = FetchError::new(ErrorKind::Connector, Some(raw), format!("failed ({raw})"));
        assert_eq!(error.url.as_deref(), Some("http://127.0.0.1:1/x"));
        assert!(!error.message.contains("hunter2"), "{}", error.message);
    }

    #[test]
    fn body_limit_is_inclusive() {
        assert!(check_body_size(10, Some(10), "u").is_ok());
        assert_eq!(
            check_body_size(11, Some(10), "u").unwrap_err().kind,
            ErrorKind::BodyTooLarge
        );
        assert!(check_body_size(u64::MAX, None, "u").is_ok());
    }
}
