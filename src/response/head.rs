//! The head of a response: status, reason, version, headers, and the redirects that led to it.

use std::time::Instant;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Version};

/// Everything known once the response head has arrived.
pub struct Head {
    pub url: String,
    pub method: Method,
    pub status: StatusCode,
    pub reason: Option<String>,
    pub version: Version,
    pub headers: HeaderMap,
    pub history: Vec<String>,
    pub started: Instant,
    /// The headers this hop sent, when the caller asked to see them (`Client.open`).
    pub sent_headers: Option<HeaderMap>,
}

/// A header value as text: UTF-8 where it is, Latin-1 otherwise (what servers meant in practice).
pub fn value_text(value: &HeaderValue) -> String {
    match std::str::from_utf8(value.as_bytes()) {
        Ok(s) => s.to_owned(),
        Err(_) => value.as_bytes().iter().map(|&b| b as char).collect(),
    }
}

/// Header values parsed by hyper are views into the connection's read buffer; a kept response
/// would pin that whole buffer (KBs to hundreds of KBs) for a few bytes of headers. Copied out,
/// 100,000 responses cost their headers, not 100,000 buffers.
pub fn detached(headers: HeaderMap) -> HeaderMap {
    let mut owned = HeaderMap::with_capacity(headers.len());
    let mut current_name = None;
    for (name, value) in headers {
        if let Some(name) = name {
            current_name = Some(name);
        }
        let Some(name) = current_name.clone() else {
            continue;
        };
        let copied = HeaderValue::from_bytes(value.as_bytes()).unwrap_or(value);
        owned.append(name, copied);
    }
    owned
}

impl Head {
    /// The body's declared length: RFC 9110 §8.6 lets a list of identical values (`5, 5`, or
    /// the same value on several lines) stand for that value; hyper frames the body by the same
    /// rule (hyper's `content_length_parse_all_values`) and refuses differing values. `None` when
    /// absent or unreadable.
    pub fn content_length(&self) -> Option<u64> {
        let mut length = None;
        for line in self.headers.get_all(CONTENT_LENGTH) {
            for item in line.to_str().ok()?.split(',').map(str::trim) {
                // Digits only, as hyper reads them (`parse` would take a sign).
                if !item.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let value: u64 = item.parse().ok()?;
                if length.is_some_and(|seen| seen != value) {
                    return None;
                }
                length = Some(value);
            }
        }
        length
    }

    pub fn reason(&self) -> String {
        self.reason.clone().unwrap_or_else(|| {
            self.status
                .canonical_reason()
                .unwrap_or_default()
                .to_owned()
        })
    }

    pub fn http_version(&self) -> &'static str {
        match self.version {
            Version::HTTP_09 => "HTTP/0.9",
            Version::HTTP_10 => "HTTP/1.0",
            Version::HTTP_11 => "HTTP/1.1",
            Version::HTTP_2 => "HTTP/2",
            Version::HTTP_3 => "HTTP/3",
            _ => "HTTP/?",
        }
    }

    fn content_type_header(&self) -> Option<mime::Mime> {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
    }

    /// The media type without parameters, lower case; aiohttp's default when absent.
    pub fn content_type(&self) -> String {
        self.content_type_header()
            .map(|m| m.essence_str().to_ascii_lowercase())
            .unwrap_or_else(|| "application/octet-stream".to_owned())
    }

    pub fn charset(&self) -> Option<String> {
        self.content_type_header().and_then(|m| {
            m.get_param(mime::CHARSET)
                .map(|c| c.as_str().to_ascii_lowercase())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(lines: &[&str]) -> Head {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(CONTENT_LENGTH, HeaderValue::from_str(line).unwrap());
        }
        Head {
            url: "http://127.0.0.1/".to_owned(),
            method: Method::GET,
            status: StatusCode::OK,
            reason: None,
            version: Version::HTTP_11,
            headers,
            history: Vec::new(),
            started: Instant::now(),
            sent_headers: None,
        }
    }

    #[test]
    fn a_list_of_identical_lengths_is_that_length() {
        assert_eq!(head(&["5"]).content_length(), Some(5));
        assert_eq!(head(&["5, 5"]).content_length(), Some(5));
        assert_eq!(head(&["5,5", " 5 "]).content_length(), Some(5));
        assert_eq!(head(&[]).content_length(), None);
    }

    #[test]
    fn differing_or_unreadable_lengths_are_none() {
        assert_eq!(head(&["5, 6"]).content_length(), None);
        assert_eq!(head(&["5", "6"]).content_length(), None);
        assert_eq!(head(&["five"]).content_length(), None);
        assert_eq!(head(&["5,"]).content_length(), None);
        assert_eq!(head(&["-5"]).content_length(), None);
        assert_eq!(head(&["+5"]).content_length(), None);
    }
}
