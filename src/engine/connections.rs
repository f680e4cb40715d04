//! Whether a response came on a connection the log has not seen before: told by the socket
//! addresses of its connection (hyper-util's `HttpInfo`, which every response carries anyway),
//! looked at only while DEBUG is on. A connector layer counting connects would do it exactly,
//! but reqwest boxes its connector once any layer is set, and clones that box for every
//! request: ≈ 1.3k instructions per request with logging off (benchmarks/README.md, Levers).
//!
//! While a connection is open its local and remote addresses name it alone on the machine, so
//! an address pair seen before is a pooled connection used again. The set is not told when a
//! connection closes, which leaves two approximations, both for the log only: a connection
//! opened while DEBUG was off reads as new at its first use once DEBUG is on, and a new
//! connection on the exact address pair of one closed earlier (the system hands out local ports
//! in turn, so this takes thousands of connections to the same server) reads as pooled.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use hyper_util::client::legacy::connect::HttpInfo;

/// Address pairs remembered; past this the set starts over, so that a long run at DEBUG does
/// not grow it without end (each pair in use reads as new once more).
const REMEMBERED: usize = 65_536;

static SEEN: Mutex<Option<HashSet<(SocketAddr, SocketAddr)>>> = Mutex::new(None);

/// Whether `response` is the first seen on its connection (also when its addresses are unknown).
pub fn first_use(response: &reqwest::Response) -> bool {
    let Some(info) = response.extensions().get::<HttpInfo>() else {
        return true;
    };
    let pair = (info.local_addr(), info.remote_addr());
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.len() >= REMEMBERED {
        seen.clear();
    }
    seen.insert(pair)
}
