//! One request, end to end: limits, redirects (followed here, not by reqwest), the total timeout,
//! and the body read under `max_body_size`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::FutureExt;
use percent_encoding::percent_decode_str;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONNECTION,
    CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, LOCATION, PROXY_AUTHORIZATION,
    TRANSFER_ENCODING, USER_AGENT,
};
use reqwest::{Method, StatusCode, Url};

use crate::engine::pool::{ClientConfig, Engine, Http2Mode, LimitPermits, DEFAULT_USER_AGENT};
use crate::request::error::{ErrorKind, FetchError, FetchResult};
use crate::request::options::RequestOptions;
use crate::request::upload::{head_within, RequestBody};
use crate::response::body::ReceivedBody;
use crate::response::decoding::BodyReader;
use crate::response::head::{detached, Head};

/// Longer than any real request; keeps `Instant + timeout` from overflowing.
const LONGEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// A response whose head has arrived, with the hop's connection-limit permits.
pub struct Sent {
    pub response: reqwest::Response,
    /// The URL this hop asked for, fragment kept (RFC 9110 §10.2.2), credentials removed.
    pub url: Url,
    pub history: Vec<String>,
    pub method: Method,
    pub started: Instant,
    pub permits: LimitPermits,
    /// What the hop sent, kept when `Hops::keep_sent_headers` asks for it.
    pub sent_headers: Option<HeaderMap>,
}

/// The moment a total timeout of `seconds` ends, counted from `from`; `None`: no limit.
pub fn deadline_after(from: Instant, seconds: Option<f64>) -> Option<Instant> {
    let limit = Duration::try_from_secs_f64(seconds?)
        .unwrap_or(LONGEST_TIMEOUT)
        .min(LONGEST_TIMEOUT);
    from.checked_add(limit)
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
            url: sent.url.to_string(),
            method: sent.method.clone(),
            status: response.status(),
            reason,
            version: response.version(),
            headers: detached(std::mem::take(response.headers_mut())),
            history: std::mem::take(&mut sent.history),
            started: sent.started,
            sent_headers: sent.sent_headers.take(),
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
    let deadline = deadline_after(Instant::now(), timeout);
    bounded_until(engine, deadline, timeout, url, work).await
}

/// Runs `work` until `deadline` (one clock for every hop and read of a request); the error
/// names `timeout`, the value the user set, not the time that was left.
pub async fn bounded_until<T>(
    engine: &Engine,
    deadline: Option<Instant>,
    timeout: Option<f64>,
    url: &str,
    work: impl Future<Output = FetchResult<T>>,
) -> FetchResult<T> {
    let limited = async {
        match deadline {
            Some(at) => tokio::time::timeout_at(at.into(), work)
                .await
                .unwrap_or_else(|_| Err(FetchError::total_timeout(url, timeout.unwrap_or(0.0)))),
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

/// What one hop ended with: the final response, or a redirect to follow.
pub enum Step {
    Final(Sent),
    Redirect { sent: Sent, next: Url },
}

/// A request on its way through redirects: what the next hop sends and what came before. Both
/// APIs drive it: `send` follows every redirect itself; a session stops at each one so that its
/// cookie jar sees the hop (`Redirect` in `stream.rs`).
pub struct Hops {
    url: Url,
    method: Method,
    body: Option<RequestBody>,
    headers: HeaderMap,
    history: Vec<String>,
    pub started: Instant,
    /// The end of the total timeout, shared by every hop and the body.
    pub deadline: Option<Instant>,
    /// Keep each hop's headers for the response (a session's `request_info`).
    pub keep_sent_headers: bool,
}

impl Hops {
    pub fn new(options: &RequestOptions, url: Url) -> Self {
        let started = Instant::now();
        let mut hops = Hops {
            url,
            method: options.method.clone(),
            body: options.body.clone(),
            headers: options.headers.clone(),
            history: Vec::new(),
            started,
            deadline: deadline_after(started, options.timeout),
            keep_sent_headers: false,
        };
        hops.take_credentials();
        hops
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Credentials in the URL become `Authorization: Basic` of their percent-decoded octets
    /// (UTF-8 as typed; RFC 7617 §2.1), unless an `Authorization` is given, and leave the URL.
    fn take_credentials(&mut self) {
        if self.url.username().is_empty() && self.url.password().is_none() {
            return;
        }
        let mut octets: Vec<u8> = percent_decode_str(self.url.username()).collect();
        octets.push(b':');
        octets.extend(percent_decode_str(self.url.password().unwrap_or_default()));
        let encoded = base64::engine::general_purpose::STANDARD.encode(octets);
        if let (false, Ok(mut value)) = (
            self.headers.contains_key(AUTHORIZATION),
            HeaderValue::from_str(&format!("Basic {encoded}")),
        ) {
            value.set_sensitive(true);
            self.headers.insert(AUTHORIZATION, value);
        }
        // Setting the user info of an http(s) URL cannot fail.
        let _ = self.url.set_username("");
        let _ = self.url.set_password(None);
    }

    /// The hop's slots of the connection limits. Only a hop that has to wait for one gets a
    /// timer of its own, so that running out of the total timeout there says what it waited for.
    async fn permits(
        &self,
        engine: &Engine,
        options: &RequestOptions,
    ) -> FetchResult<LimitPermits> {
        let acquire = engine.acquire(&self.url);
        tokio::pin!(acquire);
        if let Some(permits) = (&mut acquire).now_or_never() {
            return Ok(permits);
        }
        match self.deadline {
            Some(at) => tokio::time::timeout_at(at.into(), acquire)
                .await
                .map_err(|_| {
                    FetchError::slot_timeout(self.url.as_str(), options.timeout.unwrap_or(0.0))
                }),
            None => Ok(acquire.await),
        }
    }

    /// Sends the next hop and waits for its head.
    pub async fn send(&mut self, engine: &Engine, options: &RequestOptions) -> FetchResult<Step> {
        let permits = self.permits(engine, options).await?;
        let timeouts = engine.config.timeouts();
        let url_text = self.url.as_str();
        let mut request = reqwest::Request::new(self.method.clone(), self.url.clone());
        let headers = hop_headers(
            &self.headers,
            &self.url,
            &self.method,
            self.body.as_ref(),
            options,
            &engine.config,
        );
        let sent_headers = self.keep_sent_headers.then(|| headers.clone());
        *request.headers_mut() = headers;
        let mut uploaded = None;
        if let Some(body) = &self.body {
            match body.to_reqwest() {
                Some((body, end)) => {
                    *request.body_mut() = Some(body);
                    uploaded = end;
                }
                None => {
                    return Err(FetchError::new(
                        ErrorKind::Payload,
                        Some(url_text),
                        format!("Cannot follow redirect with a consumed request body: a streamed body cannot be sent again (the redirect to {url_text} asked for it)"),
                    ))
                }
            }
        }
        let read_timeout = timeouts
            .read
            .and_then(|s| Duration::try_from_secs_f64(s).ok());
        // The first request to an origin opens its connection alone; the others wait for its head.
        let leader = engine.warmup.turn(&self.url).await;
        let exchange = crate::request::hop::send(engine, request);
        let response = head_within(exchange, uploaded, read_timeout)
            .await
            .ok_or_else(|| FetchError::read_timeout(url_text, &timeouts))??;
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
                Some(url_text),
                format!(
                    "the server framed its response with both Content-Length and Transfer-Encoding, which is refused ({url_text})"
                ),
            ));
        }
        let location = redirect_location(options, &response);
        let next = location
            .map(|location| redirect_target(&self.url, &location))
            .transpose()?;
        let mut response = response;
        if next.is_some() {
            drain_small(&mut response).await;
        }
        let sent = Sent {
            response,
            url: self.url.clone(),
            history: match next {
                Some(_) => self.history.clone(),
                None => std::mem::take(&mut self.history),
            },
            method: self.method.clone(),
            started: self.started,
            permits,
            sent_headers,
        };
        Ok(match next {
            Some(next) => Step::Redirect { sent, next },
            None => Step::Final(sent),
        })
    }

    /// Makes `next`, where a `status` redirect points, the next hop: the redirect limit
    /// (`max_redirects` followed at most; 0 follows none, RFC 9110 §15.4), the method and body
    /// rules, and credentials kept within one origin.
    pub fn follow(
        &mut self,
        options: &RequestOptions,
        status: StatusCode,
        next: Url,
    ) -> FetchResult<()> {
        if self.history.len() >= options.max_redirects {
            return Err(FetchError::new(
                ErrorKind::TooManyRedirects {
                    status: status.as_u16(),
                },
                Some(self.url.as_str()),
                format!(
                    "too many redirects: more than {} starting from {}",
                    options.max_redirects,
                    self.history
                        .first()
                        .map(String::as_str)
                        .unwrap_or(self.url.as_str())
                ),
            ));
        }
        if changes_method_to_get(status, &self.method) {
            if self.method != Method::HEAD {
                self.method = Method::GET;
            }
            self.body = None;
            for name in [
                CONTENT_LENGTH,
                CONTENT_TYPE,
                CONTENT_ENCODING,
                TRANSFER_ENCODING,
            ] {
                self.headers.remove(name);
            }
        }
        if !same_origin(&self.url, &next) {
            for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                self.headers.remove(name);
            }
        }
        self.history
            .push(crate::request::error::redact(self.url.as_str()));
        self.url = next;
        self.take_credentials();
        Ok(())
    }

    /// Whether the hop after a `status` redirect sends the body again (307/308; 301/302 but
    /// for POST; never after 303 but for HEAD, which has none).
    /// The method the hop after a redirect answered with `status` sends (RFC 9110 §15.4).
    pub fn next_method(&self, status: StatusCode) -> Method {
        if changes_method_to_get(status, &self.method) && self.method != Method::HEAD {
            Method::GET
        } else {
            self.method.clone()
        }
    }

    pub fn keeps_body(&self, status: StatusCode) -> bool {
        self.body.is_some() && !changes_method_to_get(status, &self.method)
    }

    /// The body for the next hops, given again by a caller that can replay it (a file).
    pub fn replace_body(&mut self, body: RequestBody) {
        if self.body.is_some() {
            self.body = Some(body);
        }
    }

    /// The `Cookie` the next hop sends, as the session's cookie jar chose it (`None`: none).
    pub fn set_cookie(&mut self, value: Option<HeaderValue>) {
        match value {
            Some(value) => {
                self.headers.insert(COOKIE, value);
            }
            None => {
                self.headers.remove(COOKIE);
            }
        }
    }
}

/// Sends the request and follows redirects as the options say, up to the final response head.
pub async fn send(engine: &Engine, options: &RequestOptions, url: Url) -> FetchResult<Sent> {
    let mut hops = Hops::new(options, url);
    loop {
        match hops.send(engine, options).await? {
            Step::Final(sent) => return Ok(sent),
            Step::Redirect { sent, next } => {
                let status = sent.response.status();
                drop(sent);
                hops.follow(options, status, next)?;
            }
        }
    }
}

/// Reads a small redirect body to its end, so its connection goes back to the pool; a larger
/// one, or one of unknown length, is left unread and its connection closed (a bomb in it costs
/// nothing). Its bytes are not kept: a redirect's body is never handed out.
async fn drain_small(response: &mut reqwest::Response) {
    const DRAIN_LIMIT: u64 = 64 * 1024;
    if response.content_length().is_some_and(|n| n <= DRAIN_LIMIT) {
        let mut read = 0;
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len() as u64;
            if read > DRAIN_LIMIT {
                break;
            }
        }
    }
}

/// Methods that get no automatic `Content-Length: 0` when sent without a body (as in aiohttp).
const BODYLESS_METHODS: [Method; 4] = [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE];

/// What one hop sends: `Host` first (RFC 9112 §3.2) where the hop is sure to go over HTTP/1.1,
/// the headers given, then the automatic
/// ones not given nor skipped: the body's `Content-Type` (`application/octet-stream` for a
/// POST, PUT or PATCH that names none, as aiohttp does), `Content-Length: 0` for a method that
/// carries a body but has none, the length of a body of bytes, `Connection: close` on a pool
/// that keeps no connection, and `Accept`, `Accept-Encoding` (what `decoding.rs` undoes) and
/// `User-Agent` (a skipped one is still added by reqwest as the pool's default).
fn hop_headers(
    given: &HeaderMap,
    url: &Url,
    method: &Method,
    body: Option<&RequestBody>,
    options: &RequestOptions,
    config: &ClientConfig,
) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(given.len() + 4);
    // Over HTTP/2 the authority travels as `:authority` (RFC 9113 §8.3.1), and some servers
    // (nginx before 1.25) answer 400 to a request that also carries `Host`. Whether a TLS
    // connection speaks h2 is only known after ALPN, so `Host` is put first here only where the
    // request is sure to go over HTTP/1.1; elsewhere hyper adds it to HTTP/1.1 requests itself.
    let surely_http1 = match config.http2 {
        Http2Mode::Http1Only => true,
        Http2Mode::Prefer => url.scheme() == "http",
        Http2Mode::Force => false,
    };
    if !given.contains_key(HOST) && surely_http1 {
        if let Some(host) = host_value(url) {
            headers.insert(HOST, host);
        }
    }
    let mut last = None;
    for (name, value) in given {
        if last != Some(name) {
            headers.remove(name);
            last = Some(name);
        }
        headers.append(name, value.clone());
    }
    let auto =
        |name: &HeaderName| !given.contains_key(name) && !options.skip_auto_headers.contains(name);
    if auto(&ACCEPT) {
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    }
    if auto(&ACCEPT_ENCODING) {
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static(crate::response::decoding::ACCEPT_ENCODING),
        );
    }
    if auto(&USER_AGENT) {
        let agent = config.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        if let Ok(agent) = HeaderValue::from_str(agent) {
            headers.insert(USER_AGENT, agent);
        }
    }
    let has_body = body.is_some();
    if auto(&CONTENT_TYPE) {
        if let (true, Some(content_type)) = (has_body, &options.content_type) {
            headers.insert(CONTENT_TYPE, content_type.clone());
        } else if matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
        }
    }
    if !given.contains_key(CONTENT_LENGTH) {
        match body {
            Some(RequestBody::Bytes(bytes)) => {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            }
            None if !BODYLESS_METHODS.contains(method) => {
                headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            }
            _ => {}
        }
    }
    if config.force_close && !given.contains_key(CONNECTION) {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    headers
}

/// `host[:port]`, the port only when it is not the scheme's default (RFC 9112 §3.2).
fn host_value(url: &Url) -> Option<HeaderValue> {
    // `Host`'s display puts an IPv6 address in brackets.
    let host = url.host()?;
    let text = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    HeaderValue::from_str(&text).ok()
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
            .map(crate::response::head::value_text),
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
    let mut next = next;
    if next.fragment().is_none() && current.fragment().is_some() {
        // A Location without a fragment inherits the request's (RFC 9110 §10.2.2).
        next.set_fragment(current.fragment());
    }
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
pub fn same_origin(a: &Url, b: &Url) -> bool {
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
    received
        .compacted()
        .handed_over()
        .map_err(|e| FetchError::internal(Some(url), &e.to_string()))
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
    fn a_location_without_fragment_inherits_the_request_s() {
        let base = url("http://a.test/start#sec");
        assert_eq!(
            redirect_target(&base, "/end").unwrap().as_str(),
            "http://a.test/end#sec"
        );
        assert_eq!(
            redirect_target(&base, "/end#own").unwrap().as_str(),
            "http://a.test/end#own"
        );
    }

    #[test]
    fn host_names_the_port_only_when_not_the_default() {
        let host = |s: &str| host_value(&url(s)).unwrap();
        assert_eq!(host("http://a.test/"), "a.test");
        assert_eq!(host("http://a.test:80/"), "a.test");
        assert_eq!(host("https://a.test:8443/"), "a.test:8443");
        assert_eq!(host("http://[::1]:8080/"), "[::1]:8080");
    }

    #[test]
    fn credentials_in_the_url_become_utf8_basic_auth() {
        let options = RequestOptions::default_for_tests();
        let hops = Hops::new(&options, url("http://us%C3%A9r:p%C3%A4ss@a.test/"));
        assert_eq!(hops.url().as_str(), "http://a.test/");
        assert_eq!(
            hops.headers.get(AUTHORIZATION).unwrap(),
            "Basic dXPDqXI6cMOkc3M="
        );
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
