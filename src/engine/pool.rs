//! The reqwest client (one connection pool) with its settings, its limits, and the shared pools
//! behind the module-level functions.
//!
//! Settings that reqwest fixes per client (TLS trust, HTTP/2, connect and read timeouts, proxy)
//! key the pool: two requests share connections only if they agree on all of them, so a
//! connection opened with `verify=False` is never reused by a verifying request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::engine::error::{ConfigError, ConfigResult};
use crate::engine::warmup::Warmup;
use crate::request::error::TimeoutSettings;

pub const DEFAULT_USER_AGENT: &str = concat!("ferrofetch/", env!("CARGO_PKG_VERSION"));
/// aiohttp's `sock_connect=30`.
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 30.0;
/// aiohttp's `keepalive_timeout`; reqwest's own default (90 s) outlives many servers' idle limits.
pub const DEFAULT_POOL_IDLE_TIMEOUT: f64 = 15.0;
/// A bound on distinct option combinations kept alive by the module-level functions.
const MAX_SHARED_CLIENTS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Http2Mode {
    Http1Only,
    /// Offer h2 by ALPN over TLS; cleartext stays HTTP/1.1.
    Prefer,
    /// HTTP/2 with prior knowledge, cleartext included.
    Force,
}

/// Everything reqwest fixes per client. Seconds are stored as f64 bits so the config can key a map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    pub verify: bool,
    pub ca_bundle: Option<String>,
    /// CA certificates (PEM) trusted besides the system roots, given as bytes.
    pub ca_pem: Option<Vec<u8>>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    pub http2: Http2Mode,
    pub connect_timeout: Option<u64>,
    pub read_timeout: Option<u64>,
    pub pool_idle_timeout: Option<u64>,
    pub force_close: bool,
    pub proxy: Option<String>,
    pub trust_env: bool,
    pub user_agent: Option<String>,
}

fn seconds(bits: Option<u64>) -> Option<f64> {
    bits.map(f64::from_bits)
}

impl ClientConfig {
    pub fn timeouts(&self) -> TimeoutSettings {
        TimeoutSettings {
            connect: seconds(self.connect_timeout),
            read: seconds(self.read_timeout),
            via_proxy: self.proxy.is_some(),
        }
    }

    fn build(&self) -> ConfigResult<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            // Redirects are followed by ferrofetch (request/send.rs): per-request limits, history and
            // credential stripping need it.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT))
            // What response/decoding.rs undoes; a request's own Accept-Encoding replaces it.
            .default_headers(reqwest::header::HeaderMap::from_iter([(
                reqwest::header::ACCEPT_ENCODING,
                reqwest::header::HeaderValue::from_static(
                    crate::response::decoding::ACCEPT_ENCODING,
                ),
            )]))
            .tcp_nodelay(true)
            .dns_resolver(std::sync::Arc::new(crate::engine::resolve::SystemResolver))
            .retry(crate::request::retry::policy())
            .pool_idle_timeout(seconds(self.pool_idle_timeout).map(Duration::from_secs_f64));
        if let Some(t) = seconds(self.connect_timeout) {
            builder = builder.connect_timeout(Duration::from_secs_f64(t));
        }
        // The read timeout is not reqwest's, which starts with the request: see upload.rs.
        if self.force_close {
            builder = builder.pool_max_idle_per_host(0);
        }
        builder = match self.http2 {
            Http2Mode::Http1Only => builder.http1_only(),
            Http2Mode::Prefer => builder,
            Http2Mode::Force => builder.http2_prior_knowledge(),
        };
        if !self.verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let bundles = self
            .ca_bundle
            .iter()
            .map(|path| Ok((format!("{path:?}"), read_file("ca_bundle", path)?)))
            .chain(
                self.ca_pem
                    .iter()
                    .map(|pem| Ok(("ca_pem".to_owned(), pem.clone()))),
            )
            .collect::<ConfigResult<Vec<_>>>()?;
        for (path, pem) in bundles {
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ConfigError::Invalid(format!(
                    "ca_bundle {path} holds no usable PEM certificates: {e}"
                ))
            })?;
            if certs.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "ca_bundle {path} holds no PEM certificates"
                )));
            }
            builder = builder.tls_certs_merge(certs);
        }
        match (&self.client_cert, &self.client_key) {
            (Some(cert), key) => {
                let mut pem = read_file("client_cert", cert)?;
                if let Some(key) = key {
                    pem.push(b'\n');
                    pem.extend(read_file("client_key", key)?);
                }
                let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    ConfigError::Invalid(format!(
                        "client_cert/client_key are not a usable PEM identity: {e}"
                    ))
                })?;
                builder = builder.identity(identity);
            }
            (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "client_key was given without client_cert".to_owned(),
                ))
            }
            (None, None) => {}
        }
        if let Some(proxy) = &self.proxy {
            let scheme = proxy
                .split("://")
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !["http", "https", "socks5", "socks5h", "socks4", "socks4a"]
                .contains(&scheme.as_str())
            {
                return Err(ConfigError::Invalid(format!(
                    "proxy {:?}: the scheme must be http, https, socks5 or socks5h",
                    crate::request::error::redact(proxy)
                )));
            }
            let proxy = reqwest::Proxy::all(proxy.as_str())
                .map_err(|e| ConfigError::Invalid(format!("invalid proxy URL {proxy:?}: {e}")))?;
            builder = builder.proxy(proxy);
        } else if !self.trust_env || no_proxy_for_all() {
            // reqwest reads HTTP(S)_PROXY by default; aiohttp and ferrofetch only with trust_env.
            // NO_PROXY=* means no proxy for any host, IP addresses included (hyper-util's
            // matcher applies `*` to host names only).
            builder = builder.no_proxy();
        }
        builder
            .build()
            .map_err(|e| ConfigError::Invalid(format!("could not build the HTTP client: {e}")))
    }
}

fn read_file(setting: &'static str, path: &str) -> ConfigResult<Vec<u8>> {
    std::fs::read(path).map_err(|source| ConfigError::File {
        setting,
        path: path.to_owned(),
        source,
    })
}

fn no_proxy_for_all() -> bool {
    ["NO_PROXY", "no_proxy"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|value| value.trim() == "*"))
}

/// Bounds on requests in flight, like aiohttp's `TCPConnector(limit, limit_per_host)`. For
/// HTTP/1.1 a request in flight is a connection in use. One set serves all the pools of a
/// client, as aiohttp's limits serve its connector whatever a request's own settings.
#[derive(Default)]
pub struct Limits {
    total: Option<Arc<Semaphore>>,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Permits held for the life of one request hop.
pub struct LimitPermits {
    _total: Option<OwnedSemaphorePermit>,
    _host: Option<OwnedSemaphorePermit>,
}

/// A pool and everything a request on it needs.
pub struct Engine {
    pub http: reqwest::Client,
    pub config: ClientConfig,
    limits: Arc<Limits>,
    /// Cancelled by `Client.close()`: in-flight requests end with an error.
    pub closing: CancellationToken,
    /// Holds a burst to a cold HTTPS origin until the first connection has negotiated.
    pub warmup: Warmup,
}

impl Engine {
    pub fn new(config: ClientConfig, limits: Arc<Limits>) -> ConfigResult<Self> {
        Ok(Engine {
            http: config.build()?,
            warmup: Warmup::new(
                config.http2 == Http2Mode::Prefer,
                seconds(config.pool_idle_timeout).map(Duration::from_secs_f64),
            ),
            config,
            limits,
            closing: CancellationToken::new(),
        })
    }

    /// Waits for room under the connection limits (no-op when unlimited).
    pub async fn acquire(&self, url: &reqwest::Url) -> LimitPermits {
        let total = match &self.limits.total {
            Some(sem) => sem.clone().acquire_owned().await.ok(),
            None => None,
        };
        let host = if self.limits.per_host > 0 {
            let key = format!(
                "{}://{}:{}",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or_default()
            );
            let sem = {
                let mut hosts = self.limits.hosts.lock().unwrap_or_else(|p| p.into_inner());
                hosts
                    .entry(key)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.limits.per_host)))
                    .clone()
            };
            sem.acquire_owned().await.ok()
        } else {
            None
        };
        LimitPermits {
            _total: total,
            _host: host,
        }
    }
}

/// A short list, not a map: comparing a config with the one or two in use costs a few
/// instructions, hashing it on every `fetch` call cost over a thousand.
static SHARED: Mutex<Vec<(ClientConfig, Arc<Engine>)>> = Mutex::new(Vec::new());

/// The shared pool for these settings, used by module-level `fetch` and `fetch_all`.
pub fn shared_engine(config: ClientConfig) -> ConfigResult<Arc<Engine>> {
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, engine)) = shared.iter().find(|(known, _)| *known == config) {
        return Ok(engine.clone());
    }
    if shared.len() >= MAX_SHARED_CLIENTS {
        shared.clear();
        Python::attach(|py| {
            crate::runtime::scope::log_now(
                py,
                crate::runtime::scope::Level::Warning,
                "pool",
                format!(
                    "more than {MAX_SHARED_CLIENTS} combinations of connection options were used with the module-level fetch/fetch_all: their shared pools were closed and connections will be opened again; use a ferrofetch.Client per combination instead"
                ),
            );
        });
    }
    let engine = Arc::new(Engine::new(config.clone(), Arc::default())?);
    shared.push((config, engine.clone()));
    Ok(engine)
}

/// A client's pools: one for its own connection settings, and one per other combination that
/// a request asks for (TLS trust, connect and read timeouts, proxy), made on first use; the
/// limits apply to all of them together. Pools made before a fork are forgotten, not used.
pub struct Pools {
    config: ClientConfig,
    limit: usize,
    limit_per_host: usize,
    made: Mutex<Made>,
}

/// The pools made so far, and the limits they share.
struct Made {
    pools: Vec<(u64, ClientConfig, Arc<Engine>)>,
    limits: Arc<Limits>,
}

impl Limits {
    fn new(limit: usize, limit_per_host: usize) -> Arc<Limits> {
        Arc::new(Limits {
            total: (limit > 0).then(|| Arc::new(Semaphore::new(limit))),
            per_host: limit_per_host,
            hosts: Mutex::new(HashMap::new()),
        })
    }
}

impl Pools {
    pub fn new(config: ClientConfig, limit: usize, limit_per_host: usize) -> ConfigResult<Self> {
        let pools = Pools {
            config,
            limit,
            limit_per_host,
            made: Mutex::new(Made {
                pools: Vec::new(),
                limits: Limits::new(limit, limit_per_host),
            }),
        };
        pools.engine(None)?;
        Ok(pools)
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The pool for `config` (the client's own when `None`).
    pub fn engine(&self, config: Option<ClientConfig>) -> ConfigResult<Arc<Engine>> {
        let config = config.unwrap_or_else(|| self.config.clone());
        let generation = crate::runtime::workers::generation();
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, engine)) = made
            .pools
            .iter()
            .find(|(made_in, known, _)| *made_in == generation && *known == config)
        {
            return Ok(engine.clone());
        }
        if made
            .pools
            .iter()
            .any(|(made_in, _, _)| *made_in != generation)
        {
            // After fork: the parent's pools belong to runtime threads the child does not have,
            // and the slots their requests held are never given back.
            std::mem::forget(std::mem::take(&mut made.pools));
            made.limits = Limits::new(self.limit, self.limit_per_host);
        }
        let engine = Arc::new(Engine::new(config.clone(), made.limits.clone())?);
        made.pools.push((generation, config, engine.clone()));
        Ok(engine)
    }

    /// Requests in flight on every pool end with an error; the pools are dropped.
    pub fn close(&self) {
        let made = std::mem::take(&mut self.made.lock().unwrap_or_else(|p| p.into_inner()).pools);
        for (_, _, engine) in made {
            engine.closing.cancel();
        }
    }
}

/// After fork: the parent's pools belong to runtime threads the child does not have.
pub fn forget_shared_clients() {
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    std::mem::forget(std::mem::take(&mut *shared));
    crate::runtime::workers::bump_generation();
}
