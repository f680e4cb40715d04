//! The engine's failures: where reqwest, hyper, rustls and io errors become a [`FetchError`].
//!
//! A [`FetchError`] is plain Rust data (kind, URL, message) that can cross threads without the
//! GIL. It becomes a Python exception only when it is delivered on the event loop, through
//! `FetchError::into_pyerr` (py/errors.rs), using the classes of `ferrofetch.exceptions`.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::engine::resolve::ResolveError;

/// What went wrong, in the user's terms; each kind maps to one exception class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidUrl,
    NonHttpUrl,
    InvalidRedirectUrl,
    NonHttpRedirectUrl,
    Connector,
    ConnectorDns,
    ConnectorCertificate,
    ConnectorSsl,
    ProxyConnection,
    ConnectionTimeout,
    SocketTimeout,
    TotalTimeout,
    ServerDisconnected,
    ConnectionReset,
    Connection,
    Payload,
    BodyTooLarge,
    TooManyRedirects {
        status: u16,
    },
    ProxyStatus {
        status: u16,
    },
    BadResponse,
    Closed,
    Internal,
    /// Python code on the request's path (a mock router) raised this exception: raised as it is.
    Raised(RaisedByPython),
}

/// An exception raised by Python code on the request's path, carried back to the caller.
#[derive(Clone)]
pub struct RaisedByPython(pub Arc<pyo3::PyErr>);

impl PartialEq for RaisedByPython {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RaisedByPython {}

impl fmt::Debug for RaisedByPython {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RaisedByPython")
    }
}

#[derive(Debug, Clone)]
pub struct FetchError {
    pub kind: ErrorKind,
    pub url: Option<String>,
    pub message: String,
}

pub type FetchResult<T> = Result<T, FetchError>;

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl FetchError {
    /// Credentials in the URL never reach an exception: not its `url`, not its message.
    pub fn new(kind: ErrorKind, url: Option<&str>, message: impl Into<String>) -> Self {
        let mut message = message.into();
        let url = url.map(|raw| {
            let clean = redact(raw);
            if clean != raw {
                message = message.replace(raw, &clean);
            }
            clean
        });
        if matches!(
            kind,
            ErrorKind::ConnectionTimeout | ErrorKind::SocketTimeout | ErrorKind::TotalTimeout
        ) {
            crate::runtime::scope::debug("timeout", || message.clone());
        }
        FetchError { kind, url, message }
    }

    /// A failure while sending the request or waiting for the response head.
    pub fn from_send(err: &reqwest::Error, url: &str, timeouts: &TimeoutSettings) -> Self {
        let (kind, what) = classify(err, Phase::Head, timeouts);
        FetchError::new(kind, Some(url), format!("{what} ({url})"))
    }

    /// A failure while reading (and decoding) the response body.
    pub fn from_body(err: &reqwest::Error, url: &str, timeouts: &TimeoutSettings) -> Self {
        let (kind, what) = classify(err, Phase::Body, timeouts);
        FetchError::new(kind, Some(url), format!("{what} ({url})"))
    }

    /// A failure of a decoded body: the network's (carried inside the decoder's io::Error) or
    /// the decoder's own, when the bytes are not what `Content-Encoding` claims.
    pub fn from_decoding(
        err: &std::io::Error,
        content_encoding: &str,
        url: &str,
        timeouts: &TimeoutSettings,
    ) -> Self {
        if let Some(network) = find_cause::<reqwest::Error>(err) {
            return FetchError::from_body(network, url, timeouts);
        }
        FetchError::new(
            ErrorKind::Payload,
            Some(url),
            format!(
                "the response body could not be decoded as its Content-Encoding ({content_encoding}) says: {err} ({url})"
            ),
        )
    }

    pub fn total_timeout(url: &str, seconds: f64) -> Self {
        FetchError::new(
            ErrorKind::TotalTimeout,
            Some(url),
            format!("request did not complete within the total timeout of {seconds} s ({url})"),
        )
    }

    /// The total timeout ran out while the request waited for a slot of the connection
    /// limits (`limit`, `limit_per_host`): every slot was held by responses not yet done.
    pub fn slot_timeout(url: &str, seconds: f64) -> Self {
        FetchError::new(
            ErrorKind::TotalTimeout,
            Some(url),
            format!(
                "request did not complete within the total timeout of {seconds} s: no connection \
                 slot became free (every one of the connection limit was held by a response not \
                 yet read or released) ({url})"
            ),
        )
    }

    /// The read timeout fired: no answer within it once the request was sent, or no body bytes
    /// within it of the last ones.
    pub fn read_timeout(url: &str, timeouts: &TimeoutSettings) -> Self {
        let limit = timeouts
            .read
            .map(|s| format!(" of {s} s"))
            .unwrap_or_default();
        FetchError::new(
            ErrorKind::SocketTimeout,
            Some(url),
            format!("no data from the server within the read timeout{limit} ({url})"),
        )
    }

    pub fn internal(url: Option<&str>, detail: &str) -> Self {
        FetchError::new(
            ErrorKind::Internal,
            url,
            format!("internal error in ferrofetch (please report it): {detail}"),
        )
    }
}

/// The URL without its userinfo (`user:password@`), as it may be shown or logged.
pub fn redact(raw: &str) -> String {
    match reqwest::Url::parse(raw) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Ok(_) => raw.to_owned(),
        // Text that is not a URL (a bad port, say) can still carry credentials in its authority.
        Err(_) => redact_authority_text(raw),
    }
}

/// Drops every `user:password@` from text that would be a URL's authority: what follows the first
/// `:` and any slashes or backslashes, up to the path. Tabs and newlines go first, as URL parsers
/// drop them; `http:alice:pw@host` and `http:\\\\alice:pw@host` count, since parsers accept them.
fn redact_authority_text(raw: &str) -> String {
    let mut text: String = raw
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let Some(after_scheme) = text.find(':').map(|i| i + 1) else {
        return text;
    };
    loop {
        let rest = text.get(after_scheme..).unwrap_or_default();
        let start = after_scheme + (rest.len() - rest.trim_start_matches(['/', '\\']).len());
        let authority = text.get(start..).unwrap_or_default();
        let end = authority
            .find(['/', '\\', '?', '#'])
            .unwrap_or(authority.len());
        match authority.get(..end).and_then(|a| a.rfind('@')) {
            // `@` is ASCII: both ends are character boundaries.
            Some(at) => text.replace_range(start..=start + at, ""),
            None => return text,
        }
    }
}

/// hyper-util's error for a CONNECT tunnel that could not be opened. The enum is public but lives
/// in a private module (hyper-util 0.1.21, `client::legacy::connect::proxy::tunnel`), so it is
/// named through the connector that returns it; the inner connector does not change the type.
type TunnelError = <hyper_util::client::legacy::connect::proxy::Tunnel<
    hyper_util::client::legacy::connect::HttpConnector,
> as tower_service::Service<http::Uri>>::Error;

/// hyper-util's error for a SOCKS handshake that failed, named the same way (unexported in
/// 0.1.21: `connect::proxy::socks`). Its parameter is the inner connector's error, hyper-util's
/// `ConnectError` for reqwest's connector as for this one.
type SocksError = <hyper_util::client::legacy::connect::proxy::SocksV5<
    hyper_util::client::legacy::connect::HttpConnector,
> as tower_service::Service<http::Uri>>::Error;

/// The timeouts in force for a request, so a timeout error can say which one fired.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeoutSettings {
    pub connect: Option<f64>,
    pub read: Option<f64>,
    /// Every connection goes to a configured proxy: failing to connect is failing to reach it.
    pub via_proxy: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Body,
}

/// Walks the cause chain of a reqwest error to the most specific thing we can name.
fn classify(err: &reqwest::Error, phase: Phase, timeouts: &TimeoutSettings) -> (ErrorKind, String) {
    let io_kind = find_cause::<std::io::Error>(err).map(std::io::Error::kind);

    if err.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        if err.is_connect() {
            let limit = timeouts
                .connect
                .map(|s| format!(" of {s} s"))
                .unwrap_or_default();
            return (
                ErrorKind::ConnectionTimeout,
                format!("connecting took longer than the connect timeout{limit}"),
            );
        }
        let limit = timeouts
            .read
            .map(|s| format!(" of {s} s"))
            .unwrap_or_default();
        return (
            ErrorKind::SocketTimeout,
            format!("no data from the server within the read timeout{limit}"),
        );
    }

    if let Some(upload) = find_cause::<UploadError>(err) {
        return (ErrorKind::Payload, upload.to_string());
    }

    if let Some(tls) = find_cause::<rustls::Error>(err) {
        return match tls {
            rustls::Error::InvalidCertificate(reason) => (
                ErrorKind::ConnectorCertificate,
                format!(
                    "the server's TLS certificate was rejected: {}",
                    certificate_problem(reason)
                ),
            ),
            other => (
                ErrorKind::ConnectorSsl,
                format!("the TLS handshake failed: {other}"),
            ),
        };
    }

    let tunnel = find_cause::<TunnelError>(err);
    match tunnel {
        Some(TunnelError::ProxyAuthRequired) => {
            return (
                ErrorKind::ProxyStatus { status: 407 },
                "the proxy refused the tunnel: 407 Proxy Authentication Required".to_owned(),
            )
        }
        // hyper-util keeps no status for any other refusal (0.1.21): 502, the gateway's failure.
        Some(TunnelError::TunnelUnsuccessful) => {
            return (
                ErrorKind::ProxyStatus { status: 502 },
                "the proxy refused to open a tunnel (CONNECT was not answered with 200)".to_owned(),
            )
        }
        _ => {}
    }

    if err.is_connect() {
        if matches!(tunnel, Some(TunnelError::ConnectFailed(_)))
            || (timeouts.via_proxy && tunnel.is_none())
        {
            return (
                ErrorKind::ProxyConnection,
                format!("could not connect to the proxy: {}", innermost(err)),
            );
        }
        if find_cause::<ResolveError>(err).is_some() {
            return (
                ErrorKind::ConnectorDns,
                format!("could not resolve the host name: {}", innermost(err)),
            );
        }
        if tunnel.is_some() || find_cause::<SocksError>(err).is_some() {
            return (
                ErrorKind::ProxyConnection,
                format!(
                    "could not connect through the proxy: {}",
                    cause_chain_text(err)
                ),
            );
        }
        let detail = match io_kind {
            Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
            _ => innermost(err),
        };
        return (
            ErrorKind::Connector,
            format!("cannot connect to host: {detail}"),
        );
    }

    if err.is_decode() {
        return (
            ErrorKind::Payload,
            format!("the response body could not be read: {}", innermost(err)),
        );
    }

    if let Some(hyper_err) = find_cause::<hyper::Error>(err) {
        if hyper_err.is_parse() || hyper_err.is_parse_status() {
            return (
                ErrorKind::BadResponse,
                format!("the server sent an invalid HTTP response: {hyper_err}"),
            );
        }
        if hyper_err.is_incomplete_message() {
            return match phase {
                Phase::Head => (
                    ErrorKind::ServerDisconnected,
                    "the server closed the connection before sending a complete response"
                        .to_owned(),
                ),
                Phase::Body => (
                    ErrorKind::Payload,
                    "the response payload is not complete: the server closed the connection early"
                        .to_owned(),
                ),
            };
        }
    }

    if let Some(found) = find_cause::<h2::Error>(err).and_then(|e| http2_failure(e, phase)) {
        return found;
    }

    match (phase, io_kind) {
        // A body cut by a reset is an incomplete payload, as aiohttp reports it.
        (Phase::Body, Some(std::io::ErrorKind::ConnectionReset)) => (
            ErrorKind::Payload,
            "the response payload is not complete: the server reset the connection".to_owned(),
        ),
        (_, Some(std::io::ErrorKind::ConnectionReset)) => (
            ErrorKind::ConnectionReset,
            "the server reset the connection".to_owned(),
        ),
        (Phase::Body, _) => (
            ErrorKind::Payload,
            format!("the response payload could not be read: {}", innermost(err)),
        ),
        (Phase::Head, _) if err.is_builder() => (
            ErrorKind::InvalidUrl,
            format!("the request could not be built: {}", cause_chain_text(err)),
        ),
        (Phase::Head, _) => (
            ErrorKind::ServerDisconnected,
            format!(
                "the connection failed before a response arrived: {}",
                innermost(err)
            ),
        ),
    }
}

/// An HTTP/2 stream or connection that ended in error: who ended it (the server, or ferrofetch on
/// finding the server broke the protocol), and what that means for this request.
fn http2_failure(err: &h2::Error, phase: Phase) -> Option<(ErrorKind, String)> {
    if err.is_io() && phase == Phase::Body {
        return Some((
            ErrorKind::Payload,
            format!(
                "the response body is incomplete: the HTTP/2 connection was lost before its end ({})",
                innermost(err)
            ),
        ));
    }
    let reason = err.reason()?;
    if !(err.is_reset() || err.is_go_away()) {
        return None;
    }
    let scope = if err.is_reset() {
        "stream"
    } else {
        "connection"
    };
    if err.is_remote() {
        if reason == h2::Reason::REFUSED_STREAM && phase == Phase::Head {
            return Some((
                ErrorKind::ServerDisconnected,
                "the server refused the HTTP/2 stream (REFUSED_STREAM) without processing the \
                 request, which is safe to send again"
                    .to_owned(),
            ));
        }
        let what = if err.is_go_away() {
            format!("the server closed the HTTP/2 connection (GOAWAY with {reason:?})")
        } else {
            format!("the server reset the HTTP/2 stream ({reason:?})")
        };
        return Some(match phase {
            Phase::Head => (
                ErrorKind::ServerDisconnected,
                format!("{what} before sending a response"),
            ),
            Phase::Body => (
                ErrorKind::Payload,
                format!("the response body is incomplete: {what} before the body ended"),
            ),
        });
    }
    // Detected here: the server broke the protocol, and ferrofetch ended the stream or the
    // connection (RFC 9113 §5.4).
    let broke = match reason {
        h2::Reason::PROTOCOL_ERROR if err.is_reset() => match phase {
            Phase::Head => "a malformed response head (a missing or repeated :status, an \
                upper-case or connection-specific header name, or a header list over the 16 KiB \
                limit)"
                .to_owned(),
            Phase::Body => {
                "DATA that does not add up to the Content-Length, or a frame not allowed on an \
                 open stream"
                    .to_owned()
            }
        },
        h2::Reason::FRAME_SIZE_ERROR => "a frame of an invalid size".to_owned(),
        h2::Reason::COMPRESSION_ERROR => "a header block that cannot be decompressed (HPACK)".to_owned(),
        h2::Reason::FLOW_CONTROL_ERROR => "more data than the flow-control window allowed".to_owned(),
        h2::Reason::ENHANCE_YOUR_CALM => format!(
            "frames in an abusive quantity or size, such as an endless or oversized header block ({err})"
        ),
        other => format!("a protocol violation ({other:?})"),
    };
    let message = format!(
        "the server broke the HTTP/2 protocol with {broke}; ferrofetch closed the {scope} ({reason:?})"
    );
    Some(match phase {
        Phase::Head => (ErrorKind::BadResponse, message),
        Phase::Body => (ErrorKind::Payload, message),
    })
}

fn certificate_problem(reason: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match reason {
        E::UnknownIssuer => {
            "it is not signed by a trusted certificate authority (pass ca_bundle=... to trust a private CA)"
                .to_owned()
        }
        E::Expired | E::ExpiredContext { .. } => "it has expired".to_owned(),
        E::NotValidYet | E::NotValidYetContext { .. } => "it is not valid yet".to_owned(),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "it is not valid for this host name".to_owned()
        }
        E::Revoked => "it has been revoked".to_owned(),
        other => format!("{other:?}"),
    }
}

pub fn find_cause<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        // io::Error::source() skips the error it wraps (rustls puts its error there).
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn cause_chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut current = err.source();
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    parts.join(": ")
}

/// The streamed body failed on the Python side (its iterator raised, or yielded a non-bytes).
#[derive(Debug)]
pub struct UploadError(pub String);

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body stream failed: {}", self.0)
    }
}

impl std::error::Error for UploadError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_from_urls() {
        assert_eq!(
            redact("http://alice:hunter2@example.test/x"),
            "http://example.test/x"
        );
        assert_eq!(redact("http://example.test/x"), "http://example.test/x");
    }

    #[test]
    fn credentials_are_removed_from_text_that_is_not_a_url() {
        // Port out of range: no URL parser accepts it, the password must still go.
        let out = redact("http://alice:hunter2@example.test:99999/a@b");
        assert_eq!(out, "http://example.test:99999/a@b");
        let out = redact("https://a:b@c@[::1/x");
        assert!(!out.contains("a:b"), "{out}");
        assert_eq!(redact("http:alice:pw@host:99999/"), "http:host:99999/");
        assert_eq!(redact("http:\\\\al\nice:pw@h:0x/"), "http:\\\\h:0x/");
        assert_eq!(redact("ws://@//a@b"), "ws:////b");
    }
}
