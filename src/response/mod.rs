//! A response on its way in: the body as received and the Content-Encoding decoding layer.

pub mod body;
pub mod decoding;
pub mod head;
