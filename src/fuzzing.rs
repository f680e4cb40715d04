//! Entry points for the `cargo fuzz` targets in `fuzz/`: the code of ours that parses or converts
//! what users and servers hand us, callable without a Python interpreter. Not an API.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_ENCODING};

pub use crate::request::error::{redact, ErrorKind, FetchError};
pub use crate::request::options::prepare_url;
pub use crate::request::send::redirect_target;

use crate::request::error::TimeoutSettings;
use crate::request::send::check_body_size;
use crate::response::decoding::BodyReader;

/// How a body served with these `Content-Encoding` lines ends when read through ferrofetch's
/// decoding layer under `limit`: the decoded bytes, or the kind of error.
pub fn decode_body(
    content_encoding: &[&[u8]],
    body: Vec<u8>,
    limit: u64,
) -> Result<Vec<u8>, ErrorKind> {
    let mut headers = HeaderMap::new();
    for line in content_encoding {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(CONTENT_ENCODING, value);
        }
    }
    let mut wire = http::Response::new(Bytes::from(body));
    *wire.headers_mut() = headers.clone();
    let response = reqwest::Response::from(wire);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|_| ErrorKind::Internal)?;
    runtime.block_on(async {
        let url = "http://fuzz.test/";
        let timeouts = TimeoutSettings::default();
        let mut reader = BodyReader::new(response, &headers, true, url);
        let mut decoded = Vec::new();
        while let Some(chunk) = reader.chunk(url, &timeouts).await.map_err(|e| e.kind)? {
            decoded.extend_from_slice(&chunk);
            check_body_size(decoded.len() as u64, Some(limit), url).map_err(|e| e.kind)?;
        }
        Ok(decoded)
    })
}
