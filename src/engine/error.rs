//! Connection settings that cannot make a pool: refused before any request is sent, as plain Rust
//! data that py/errors.rs turns into the Python exception (`ValueError`, or the `OSError` of a
//! file that cannot be read).

use std::fmt;

#[derive(Debug)]
pub enum ConfigError {
    /// A setting's value is unusable (a PEM file without certificates, a proxy URL of an
    /// unsupported scheme).
    Invalid(String),
    /// A file named by a setting (`ca_bundle`, `client_cert`, `client_key`) could not be read.
    File {
        setting: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid(message) => f.write_str(message),
            ConfigError::File {
                setting,
                path,
                source,
            } => write!(f, "{setting} {path:?} could not be read: {source}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Invalid(_) => None,
            ConfigError::File { source, .. } => Some(source),
        }
    }
}

pub type ConfigResult<T> = Result<T, ConfigError>;
