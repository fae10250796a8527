//! The dev server: every function's routes on one port, over hyper.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

use super::body::BodyError;
use super::bulk::MAX_BULK_BODY_BYTES;
use super::problem;
use super::routes::EVERY_ROUTE;
use super::{Api, Origin};

/// Serves `api` on `listener` until the task is dropped.
pub async fn serve(api: Arc<Api>, listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let api = api.clone();
        let origin = Arc::new(Origin::of(&peer.ip().to_string(), None));
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (api, origin) = (api.clone(), origin.clone());
                async move { Ok::<_, Infallible>(answer(&api, &origin, request).await) }
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

async fn answer(api: &Api, origin: &Origin, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    // The largest body of any route; each route's own limit is its body's to check.
    let response = match Limited::new(body, MAX_BULK_BODY_BYTES + 1).collect().await {
        Ok(collected) => {
            api.handle::<EVERY_ROUTE>(Request::from_parts(parts, collected.to_bytes()), origin).await
        }
        Err(_) => problem::failure(&BodyError::TooLarge(MAX_BULK_BODY_BYTES)),
    };
    response.map(Full::new)
}
