//! Response bodies decoded as their `Content-Encoding` says.
//!
//! ferrofetch decodes rather than reqwest because reqwest's decoder handles a single coding only,
//! passes a stacked value such as `gzip, gzip` through undecoded and removes the header. Here:
//! every listed coding is undone, last applied first, up to [`MAX_CODINGS`] (a longer chain is
//! refused, as urllib3 refuses one); the headers stay as the server sent them (as aiohttp keeps
//! them); a coding ferrofetch does not know leaves the body as it came; and `decompress=False`
//! hands out the bytes on the wire. `max_body_size` is counted on the decoded bytes by the reader
//! of this stream, chunk by chunk, so a bomb stops at the limit.

use std::io;

use async_compression::tokio::bufread::{
    BrotliDecoder, DeflateDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder,
};
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use http_body_util::BodyExt;
use hyper::body::Body as _;
use reqwest::header::{HeaderMap, CONTENT_ENCODING};
use tokio::io::AsyncRead;
use tokio_util::io::{ReaderStream, StreamReader};

use crate::request::error::{ErrorKind, FetchError, FetchResult, TimeoutSettings};

/// Sent on every request that does not set its own `Accept-Encoding`.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// The most codings undone on one body; urllib3 allows the same number.
pub const MAX_CODINGS: usize = 5;

/// Decoded bytes handed out per read; large enough that a big body costs few wake-ups.
const DECODED_CHUNK: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    /// HTTP's "deflate" is a zlib stream; some servers send raw deflate, which is accepted too.
    Deflate,
    Brotli,
    Zstd,
}

/// What to do with a body, from its `Content-Encoding` header lines.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Hand the bytes out as they came: no coding, only `identity`, or a coding not known here.
    AsIs,
    /// Undo these codings, in the order they were applied (so the last one is undone first).
    Decode(Vec<Coding>),
    /// More codings than [`MAX_CODINGS`]: refused.
    TooMany(usize),
}

/// Every `Content-Encoding` line and every comma-separated coding in it, in order.
pub fn plan(headers: &HeaderMap) -> Plan {
    let mut codings = Vec::new();
    let mut listed = 0usize;
    for line in headers.get_all(CONTENT_ENCODING) {
        let Ok(text) = line.to_str() else {
            return Plan::AsIs;
        };
        for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            listed += 1;
            let coding = match token.to_ascii_lowercase().as_str() {
                "identity" => continue,
                "gzip" | "x-gzip" => Coding::Gzip,
                "deflate" => Coding::Deflate,
                "br" => Coding::Brotli,
                "zstd" => Coding::Zstd,
                _ => return Plan::AsIs,
            };
            codings.push(coding);
        }
    }
    if listed > MAX_CODINGS {
        Plan::TooMany(listed)
    } else if codings.is_empty() {
        Plan::AsIs
    } else {
        Plan::Decode(codings)
    }
}

type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// A body that ended before all of it arrived, though the connection reported a normal end.
///
/// Over HTTP/2, hyper ends a body without error when the server resets the stream with
/// `NO_ERROR` (RFC 9113 §8.1 allows that only after a complete response, to stop the request
/// body) and when a graceful GOAWAY cuts the stream. Either way, if END_STREAM never came, the
/// response is incomplete, whatever the error code, and must not be handed out as a success.
#[derive(Debug)]
pub struct Truncated {
    received: u64,
    expected: Option<u64>,
}

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let of = match self.expected {
            Some(length) => format!(
                "{} of the {length} bytes its Content-Length announced",
                self.received
            ),
            None => format!("{} bytes", self.received),
        };
        write!(
            f,
            "the response body is incomplete: the server stopped the HTTP/2 stream before its end \
             (after {of}); the server or a proxy in between cut the response short"
        )
    }
}

impl std::error::Error for Truncated {}

/// The body's bytes as they came off the connection, checked for completeness at their end.
struct Wire {
    body: reqwest::Body,
    /// Only HTTP/2 can end early without an error (see [`Truncated`]); HTTP/1.1 bodies that end
    /// early are already errors in hyper.
    http2: bool,
    received: u64,
    expected: Option<u64>,
}

enum WireError {
    Network(reqwest::Error),
    Truncated(Truncated),
}

impl WireError {
    fn into_io(self) -> io::Error {
        match self {
            WireError::Network(e) => io::Error::other(e),
            WireError::Truncated(t) => io::Error::other(t),
        }
    }

    fn into_fetch(self, url: &str, timeouts: &TimeoutSettings) -> FetchError {
        match self {
            WireError::Network(e) => FetchError::from_body(&e, url, timeouts),
            WireError::Truncated(t) => truncated(&t, url),
        }
    }
}

fn truncated(t: &Truncated, url: &str) -> FetchError {
    FetchError::new(ErrorKind::Payload, Some(url), format!("{t} ({url})"))
}

impl Wire {
    fn new(response: reqwest::Response) -> Self {
        let http2 = response.version() == reqwest::Version::HTTP_2;
        let expected = response.content_length();
        let body = http::Response::<reqwest::Body>::from(response).into_body();
        Wire {
            body,
            http2,
            received: 0,
            expected,
        }
    }

    async fn next(&mut self) -> Result<Option<Bytes>, WireError> {
        loop {
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    // Trailers carry no body bytes; they are not handed out.
                    if let Ok(data) = frame.into_data() {
                        self.received = self.received.saturating_add(data.len() as u64);
                        return Ok(Some(data));
                    }
                }
                Some(Err(e)) => return Err(WireError::Network(e)),
                None if self.http2 && !self.body.is_end_stream() => {
                    return Err(WireError::Truncated(Truncated {
                        received: self.received,
                        expected: self.expected,
                    }))
                }
                None => return Ok(None),
            }
        }
    }

    fn into_stream(self) -> ByteStream {
        stream::unfold(Some(self), |wire| async move {
            let mut wire = wire?;
            match wire.next().await {
                Ok(Some(bytes)) => Some((Ok(bytes), Some(wire))),
                Ok(None) => None,
                Err(e) => Some((Err(e.into_io()), None)),
            }
        })
        .boxed()
    }
}

enum Source {
    AsIs(Wire),
    /// Decoding starts with the first byte: a body that turns out empty (HEAD, 204, 304, or a
    /// server that labels an empty body) is empty, whatever its header says.
    Waiting {
        wire: Wire,
        codings: Vec<Coding>,
    },
    Decoding(ByteStream),
    Refused(FetchError),
    Done,
}

/// The body of one response, decoded, read chunk by chunk. `chunk` is cancel-safe: a read
/// dropped while pending loses nothing.
pub struct BodyReader {
    source: Source,
    label: String,
}

impl BodyReader {
    /// `headers` are the response's, which the caller has already taken out of `response`.
    pub fn new(
        response: reqwest::Response,
        headers: &HeaderMap,
        decompress: bool,
        url: &str,
    ) -> Self {
        let plan = if decompress {
            plan(headers)
        } else {
            Plan::AsIs
        };
        let label = headers
            .get_all(CONTENT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        let source = match plan {
            Plan::AsIs => Source::AsIs(Wire::new(response)),
            Plan::Decode(codings) => Source::Waiting {
                wire: Wire::new(response),
                codings,
            },
            Plan::TooMany(count) => Source::Refused(FetchError::new(
                ErrorKind::Payload,
                Some(url),
                format!(
                    "the response lists {count} content codings ({label}); more than {MAX_CODINGS} are refused ({url})"
                ),
            )),
        };
        BodyReader { source, label }
    }

    /// The next chunk of the (decoded) body, or `None` at its end; a `SocketTimeoutError` when
    /// none comes within the read timeout (counted per read, as aiohttp's `sock_read`).
    pub async fn chunk(
        &mut self,
        url: &str,
        timeouts: &TimeoutSettings,
    ) -> FetchResult<Option<Bytes>> {
        match timeouts
            .read
            .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        {
            Some(read) => tokio::time::timeout(read, self.next_chunk(url, timeouts))
                .await
                .unwrap_or_else(|_| Err(FetchError::read_timeout(url, timeouts))),
            None => self.next_chunk(url, timeouts).await,
        }
    }

    async fn next_chunk(
        &mut self,
        url: &str,
        timeouts: &TimeoutSettings,
    ) -> FetchResult<Option<Bytes>> {
        loop {
            match &mut self.source {
                Source::AsIs(wire) => {
                    return wire.next().await.map_err(|e| e.into_fetch(url, timeouts));
                }
                Source::Waiting { wire, .. } => {
                    let first = wire.next().await.map_err(|e| e.into_fetch(url, timeouts))?;
                    let Source::Waiting { wire, codings } =
                        std::mem::replace(&mut self.source, Source::Done)
                    else {
                        return Err(FetchError::internal(Some(url), "decoder state lost"));
                    };
                    match first {
                        Some(first) => {
                            self.source = Source::Decoding(decoded(first, wire, &codings))
                        }
                        None => return Ok(None),
                    }
                }
                Source::Decoding(stream) => {
                    return match stream.next().await {
                        Some(Ok(chunk)) => Ok(Some(chunk)),
                        Some(Err(e)) => {
                            self.source = Source::Done;
                            Err(
                                match e
                                    .get_ref()
                                    .and_then(|inner| inner.downcast_ref::<Truncated>())
                                {
                                    Some(t) => truncated(t, url),
                                    None => {
                                        FetchError::from_decoding(&e, &self.label, url, timeouts)
                                    }
                                },
                            )
                        }
                        None => {
                            self.source = Source::Done;
                            Ok(None)
                        }
                    };
                }
                Source::Refused(_) => {
                    return match std::mem::replace(&mut self.source, Source::Done) {
                        Source::Refused(error) => Err(error),
                        _ => Err(FetchError::internal(Some(url), "decoder state lost")),
                    };
                }
                Source::Done => return Ok(None),
            }
        }
    }
}

/// The body's bytes, starting with the chunk already read, through one decoder per coding.
fn decoded(first: Bytes, wire: Wire, codings: &[Coding]) -> ByteStream {
    let wire: ByteStream = stream::once(async move { Ok(first) })
        .chain(wire.into_stream())
        .boxed();
    codings
        .iter()
        .rev()
        .fold(wire, |input, &coding| layer(input, coding))
}

fn layer(input: ByteStream, coding: Coding) -> ByteStream {
    match coding {
        Coding::Gzip => through(GzipDecoder::new(StreamReader::new(input))),
        Coding::Brotli => through(BrotliDecoder::new(StreamReader::new(input))),
        Coding::Zstd => through(ZstdDecoder::new(StreamReader::new(input))),
        Coding::Deflate => stream::once(async move {
            // zlib or raw deflate: told apart by the zlib header in the first two bytes.
            let (head, rest) = input.into_future().await;
            let head = match head {
                Some(Ok(bytes)) => bytes,
                Some(Err(e)) => return stream::once(async move { Err(e) }).boxed(),
                None => return stream::empty().boxed(),
            };
            let zlib = is_zlib_header(&head);
            let input = stream::once(async move { Ok(head) }).chain(rest).boxed();
            if zlib {
                through(ZlibDecoder::new(StreamReader::new(input)))
            } else {
                through(DeflateDecoder::new(StreamReader::new(input)))
            }
        })
        .flatten()
        .boxed(),
    }
}

fn through<R: AsyncRead + Send + 'static>(decoder: R) -> ByteStream {
    ReaderStream::with_capacity(decoder, DECODED_CHUNK).boxed()
}

/// RFC 1950: compression method 8 in the low nibble, window size at most 32 KiB, and the first
/// two bytes, read as a big-endian number, a multiple of 31.
fn is_zlib_header(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        [cmf] => cmf & 0x0f == 8,
        [] => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(CONTENT_ENCODING, HeaderValue::from_str(line).unwrap());
        }
        map
    }

    #[test]
    fn no_header_or_identity_is_as_is() {
        assert_eq!(plan(&HeaderMap::new()), Plan::AsIs);
        assert_eq!(plan(&headers(&["identity"])), Plan::AsIs);
    }

    #[test]
    fn codings_are_listed_in_the_order_applied_across_lines() {
        assert_eq!(
            plan(&headers(&["gzip, br", "zstd"])),
            Plan::Decode(vec![Coding::Gzip, Coding::Brotli, Coding::Zstd])
        );
        assert_eq!(
            plan(&headers(&["X-GZIP", " Deflate "])),
            Plan::Decode(vec![Coding::Gzip, Coding::Deflate])
        );
    }

    #[test]
    fn an_unknown_coding_leaves_the_body_as_it_came() {
        assert_eq!(plan(&headers(&["gzip, snappy"])), Plan::AsIs);
    }

    #[test]
    fn long_chains_are_refused() {
        let five = ["gzip"; MAX_CODINGS].join(", ");
        assert_eq!(
            plan(&headers(&[&five])),
            Plan::Decode(vec![Coding::Gzip; 5])
        );
        let six = vec!["gzip"; MAX_CODINGS + 1];
        assert_eq!(plan(&headers(&six)), Plan::TooMany(6));
    }

    #[test]
    fn zlib_headers_are_told_from_raw_deflate() {
        assert!(is_zlib_header(&[0x78, 0x9c]));
        assert!(is_zlib_header(&[0x78, 0x01]));
        assert!(!is_zlib_header(&[0x78, 0x9d]));
        assert!(!is_zlib_header(&[0xcb, 0x48]));
    }
}
