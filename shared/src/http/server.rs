//! The dev server: every function's routes on one port, over hyper.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

use super::Api;
use super::body::{BodyError, MAX_BODY_BYTES};
use super::problem;

/// Serves `api` on `listener` until the task is dropped.
pub async fn serve(api: Arc<Api>, listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let api = api.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let api = api.clone();
                async move { Ok::<_, Infallible>(answer(&api, request).await) }
            });
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
}

async fn answer(api: &Api, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let response = match Limited::new(body, MAX_BODY_BYTES + 1).collect().await {
        Ok(collected) => api.handle(Request::from_parts(parts, collected.to_bytes()), None, None).await,
        Err(_) => problem::failure(&BodyError::TooLarge),
    };
    response.map(Full::new)
}
