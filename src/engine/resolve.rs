//! Host names to addresses: the system's `getaddrinfo` (so `/etc/hosts` and nsswitch apply), on
//! tokio's blocking pool, as reqwest's default resolver does it. Ours only so that a failed lookup
//! is a [`ResolveError`] that error.rs finds by type in the cause chain: hyper-util's "dns error"
//! wrapper is a private type (0.1.21), so the resolver's own error is the one typed signal.
//!
//! IP-literal hosts never get here (hyper-util's connector parses them first), so a request to
//! an address pays nothing for this.

use std::fmt;
use std::net::ToSocketAddrs;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A host name the system resolver could not turn into addresses.
#[derive(Debug)]
pub struct ResolveError {
    pub host: String,
    source: std::io::Error,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not resolve {:?}", self.host)
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The system resolver: `getaddrinfo` on a blocking thread (bounded by the runtime's
/// `max_blocking_threads`).
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let lookup = tokio::task::spawn_blocking(move || {
                let addrs = (host.as_str(), 0).to_socket_addrs();
                (host, addrs)
            });
            let (host, source) = match lookup.await {
                Ok((_, Ok(addrs))) => return Ok(Box::new(addrs) as Addrs),
                Ok((host, Err(source))) => (host, source),
                // Only at runtime shutdown (cancelled) or if getaddrinfo panicked: no host to name.
                Err(join) => (name.as_str().to_owned(), std::io::Error::other(join)),
            };
            Err(Box::new(ResolveError { host, source }) as _)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn names_in_etc_hosts_resolve() {
        let addrs = runtime()
            .block_on(SystemResolver.resolve(Name::from_str("localhost").unwrap()))
            .unwrap();
        assert!(addrs.into_iter().any(|a| a.ip().is_loopback()));
    }

    /// A label over 63 octets cannot be put in a DNS query (RFC 1035 §2.3.4): the lookup fails
    /// inside the C library, with no query sent.
    #[test]
    fn an_unresolvable_name_is_a_resolve_error() {
        let host = format!("{}.invalid", "a".repeat(64));
        let Err(err) = runtime().block_on(SystemResolver.resolve(Name::from_str(&host).unwrap()))
        else {
            panic!("{host} resolved");
        };
        let found = err.downcast_ref::<ResolveError>().unwrap();
        assert_eq!(found.host, host);
    }
}
