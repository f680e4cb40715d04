//! A connector layer that counts the connections a call starts, so the log can tell a hop on a
//! new connection from one on a pooled one. It sees connects only, never requests: a request on
//! a pooled connection costs it nothing.

use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

#[derive(Clone, Copy)]
pub struct CountConnections;

impl<S> Layer<S> for CountConnections {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted(inner)
    }
}

#[derive(Clone)]
pub struct Counted<S>(S);

impl<S: Service<R>, R> Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, destination: R) -> S::Future {
        // Called on the task of the request that needs the connection (hyper-util starts a
        // connect lazily, from the request's own future), so the count lands in its scope.
        crate::runtime::scope::connection_started();
        self.0.call(destination)
    }
}
