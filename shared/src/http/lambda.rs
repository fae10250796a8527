//! Running as a Lambda function behind API Gateway (HTTP API, payload v2).

use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use std::convert::Infallible;
use std::sync::Arc;

use super::{Api, Origin};

/// Serves the routes of `SCOPE` (one function's); `api` is built once per cold start.
pub async fn serve<const SCOPE: u8>(api: Api) -> Result<(), lambda_http::Error> {
    let api = Arc::new(api);
    lambda_http::run(lambda_http::service_fn(move |event: Request| {
        let api = api.clone();
        async move { Ok::<_, Infallible>(answer::<SCOPE>(&api, event).await) }
    }))
    .await
}

async fn answer<const SCOPE: u8>(api: &Api, event: Request) -> Response<Body> {
    let client = match event.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    };
    let request_id = event.lambda_context_ref().map(|c| c.request_id.clone());
    let origin = Origin::of(&client.unwrap_or_default(), request_id);
    let (parts, body) = event.into_parts();
    let body = Bytes::copy_from_slice(body.as_ref());
    let response = api.handle::<SCOPE>(http::Request::from_parts(parts, body), &origin).await;
    response.map(|b| if b.is_empty() { Body::Empty } else { Body::Binary(b.to_vec()) })
}
