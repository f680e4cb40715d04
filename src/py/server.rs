//! A small, fast HTTP/1.1 server on 127.0.0.1 for the demo, the tests and the benchmarks, so
//! that what is measured is the client: hyper on its own current-thread runtime and thread.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use pyo3::prelude::*;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::py::errors::runtime_error;

/// Bodies larger than this are refused, so a typo cannot make the server allocate gigabytes.
const MAX_BODY: usize = 256 * 1024 * 1024;

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    connections: AtomicU64,
}

fn respond(request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let route = parts.next().unwrap_or_default();
    let arg = parts.next().and_then(|a| a.parse::<usize>().ok());
    let mut response = match (route, arg) {
        ("bytes", Some(n)) if n <= MAX_BODY => Response::new(Full::new(Bytes::from(vec![b'x'; n]))),
        ("status", Some(code)) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = u16::try_from(code)
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::BAD_REQUEST);
            r
        }
        ("redirect", Some(0)) => Response::new(Full::new(Bytes::from_static(b"redirected\n"))),
        ("redirect", Some(n)) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::FOUND;
            if let Ok(location) = HeaderValue::from_str(&format!("/redirect/{}", n - 1)) {
                r.headers_mut().insert(LOCATION, location);
            }
            r
        }
        _ => Response::new(Full::new(Bytes::from_static(
            b"Hello from the ferrofetch loopback server\n",
        ))),
    };
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn serve(listener: TcpListener, counters: Arc<Counters>, mut stop: oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                counters.connections.fetch_add(1, Ordering::Relaxed);
                let counters = counters.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        counters.requests.fetch_add(1, Ordering::Relaxed);
                        let response = respond(&request);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

/// See `_core.pyi`.
#[pyclass(frozen, module = "ferrofetch.testing")]
pub struct LoopbackServer {
    address: SocketAddr,
    counters: Arc<Counters>,
    stop: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

#[pymethods]
impl LoopbackServer {
    #[new]
    #[pyo3(signature = (port = 0))]
    fn new(port: u16) -> PyResult<Self> {
        let listener = StdListener::bind((Ipv4Addr::LOCALHOST, port))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let (stop_tx, stop_rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| runtime_error(format!("could not start the loopback server: {e}")))?;
        let thread_counters = counters.clone();
        let thread = std::thread::Builder::new()
            .name("ferrofetch-loopback-server".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    if let Ok(listener) = TcpListener::from_std(listener) {
                        serve(listener, thread_counters, stop_rx).await;
                    }
                });
            })?;
        Ok(LoopbackServer {
            address,
            counters,
            stop: Mutex::new(Some((stop_tx, thread))),
        })
    }

    #[getter]
    fn port(&self) -> u16 {
        self.address.port()
    }

    #[getter]
    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    #[getter]
    fn requests_served(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    #[getter]
    fn connections_accepted(&self) -> u64 {
        self.counters.connections.load(Ordering::Relaxed)
    }

    /// Stops accepting and closes every connection.
    fn close(&self, py: Python<'_>) {
        let stop = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((stop, thread)) = stop {
            let _ = stop.send(());
            py.detach(|| {
                let _ = thread.join();
            });
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, pyo3::types::PyTuple>) {
        self.close(py);
    }

    fn __repr__(&self) -> String {
        format!("<LoopbackServer {}>", self.url())
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some((stop, _thread)) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = stop.send(());
        }
    }
}
