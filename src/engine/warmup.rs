//! The first connection to an HTTPS origin, awaited by the requests that follow it.
//!
//! Over TLS, whether an origin speaks HTTP/2 is known only once ALPN has chosen it, and hyper's
//! pool shares a connection only after that. Until then, a burst of requests to a cold origin
//! opens one connection each: 100 for a cold `fetch_all` of 100 URLs to a host that would have
//! served them all on one. Here the first request to an origin leads, and the others wait until
//! its response head has arrived (or it has failed or been dropped); over HTTP/2 they then
//! multiplex on its connection, over HTTP/1.1 they open their own, one request's time later.
//! Once one head has arrived, the origin is warm and nothing waits, until no request has gone
//! to it for longer than the pool keeps an idle connection: then it is cold again.
//!
//! The wait is bounded by [`MAX_WAIT`]: a slow first answer from an HTTP/1.1 host delays the
//! others by that much at most, each time the origin is cold; an HTTP/2 host slower than that to
//! answer the first request gets the burst of connections it would have had without the wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Url;
use tokio::sync::Semaphore;

/// The longest a request waits for the first one to its origin. TCP and TLS 1.3 handshakes and
/// one request take about four round trips: 1 s covers round trips up to ~250 ms.
const MAX_WAIT: Duration = Duration::from_secs(1);

/// Origins remembered as warm; past this many, the warm ones are forgotten (they only cost a
/// wait of one request's time if they come back cold).
const MAX_ORIGINS: usize = 4096;

enum State {
    /// A first request is on its way; the others wait until this gate closes.
    Leading(Arc<Semaphore>),
    /// When the last request to the origin started.
    Warm(Instant),
}

pub struct Warmup {
    enabled: bool,
    /// The pool's `pool_idle_timeout`: an origin left alone longer has no connection left.
    idle: Option<Duration>,
    origins: Mutex<HashMap<String, State>>,
}

impl Warmup {
    /// `enabled`: only when HTTP/2 is offered by ALPN; with prior knowledge, hyper itself opens
    /// one connection and holds the others, and without HTTP/2 there is nothing to share.
    pub fn new(enabled: bool, idle: Option<Duration>) -> Self {
        Warmup {
            enabled,
            idle,
            origins: Mutex::new(HashMap::new()),
        }
    }

    /// Waits while another request is opening the first connection to `url`'s origin; returns a
    /// [`Leader`] if this request is the one to open it.
    pub async fn turn(&self, url: &Url) -> Option<Leader<'_>> {
        if !self.enabled || url.scheme() != "https" {
            return None;
        }
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        let gate = {
            let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            match origins.get_mut(&key) {
                Some(State::Warm(last))
                    if self
                        .idle
                        .is_none_or(|idle| now.duration_since(*last) <= idle) =>
                {
                    *last = now;
                    return None;
                }
                Some(State::Leading(gate)) => gate.clone(),
                // Unknown, or idle so long that its connections are gone: this request leads.
                _ => {
                    let gate = Arc::new(Semaphore::new(0));
                    origins.insert(key.clone(), State::Leading(gate.clone()));
                    return Some(Leader {
                        warmup: self,
                        key,
                        gate,
                        warm: false,
                    });
                }
            }
        };
        // The gate never has permits: `acquire` returns only once the leader has closed it.
        let _ = tokio::time::timeout(MAX_WAIT, gate.acquire()).await;
        None
    }
}

/// The request opening the first connection to an origin. Dropping it releases the others;
/// the origin stays warm only if [`Leader::head_arrived`] was called.
pub struct Leader<'a> {
    warmup: &'a Warmup,
    key: String,
    gate: Arc<Semaphore>,
    warm: bool,
}

impl Leader<'_> {
    pub fn head_arrived(mut self) {
        self.warm = true;
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        let mut origins = self
            .warmup
            .origins
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if self.warm {
            if origins.len() >= MAX_ORIGINS {
                origins.retain(|_, state| matches!(state, State::Leading(_)));
            }
            origins.insert(std::mem::take(&mut self.key), State::Warm(Instant::now()));
        } else {
            // Failed or cancelled: the next request to the origin leads again.
            origins.remove(&self.key);
        }
        self.gate.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[tokio::test]
    async fn the_others_wait_for_the_first_head_then_go_freely() {
        let warmup = Warmup::new(true, None);
        let leader = warmup.turn(&url("https://a.test/1")).await.unwrap();
        // Another origin, and cleartext, are not held.
        assert!(warmup.turn(&url("https://b.test/")).await.is_some());
        assert!(warmup.turn(&url("http://a.test/")).await.is_none());
        let started = tokio::time::Instant::now();
        let follower = async {
            let turn = warmup.turn(&url("https://a.test/2")).await;
            (turn.is_none(), started.elapsed())
        };
        let release = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            leader.head_arrived();
        };
        let ((waited_only, waited), ()) = tokio::join!(follower, release);
        assert!(waited_only);
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        // Warm: nobody leads or waits any more.
        assert!(warmup.turn(&url("https://a.test/3")).await.is_none());
    }

    #[tokio::test]
    async fn a_failed_first_request_releases_the_others_and_leaves_the_origin_cold() {
        let warmup = Warmup::new(true, None);
        let leader = warmup.turn(&url("https://a.test/")).await.unwrap();
        let same = url("https://a.test/");
        let follower = warmup.turn(&same);
        let (turn, ()) = tokio::join!(follower, async move {
            tokio::task::yield_now().await;
            drop(leader);
        });
        assert!(turn.is_none());
        assert!(warmup.turn(&url("https://a.test/")).await.is_some());
    }

    #[tokio::test]
    async fn the_wait_is_bounded() {
        let warmup = Warmup::new(true, None);
        let _leader = warmup.turn(&url("https://a.test/")).await.unwrap();
        let started = tokio::time::Instant::now();
        assert!(warmup.turn(&url("https://a.test/")).await.is_none());
        let waited = started.elapsed();
        assert!(waited >= MAX_WAIT && waited < MAX_WAIT * 3, "{waited:?}");
    }

    #[tokio::test]
    async fn an_origin_idle_longer_than_the_pool_keeps_connections_is_cold_again() {
        let warmup = Warmup::new(true, Some(Duration::from_millis(50)));
        let leader = warmup.turn(&url("https://a.test/")).await.unwrap();
        leader.head_arrived();
        assert!(warmup.turn(&url("https://a.test/")).await.is_none());
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(warmup.turn(&url("https://a.test/")).await.is_some());
    }

    #[tokio::test]
    async fn disabled_never_holds() {
        let warmup = Warmup::new(false, None);
        assert!(warmup.turn(&url("https://a.test/")).await.is_none());
        assert!(warmup.turn(&url("https://a.test/")).await.is_none());
    }
}
