//! The one place errors become responses: `application/problem+json` with a stable `code`.
//! Internal errors and outages are logged here, once, and answered without detail.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

use crate::domain::FieldError;
use crate::service::support::failure::{Code, Failure};

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldError>>,
}

/// A response that ends a request early: an error already turned into its answer.
#[derive(Debug)]
pub struct Reply(pub Box<Response<Bytes>>);

impl<E: Failure> From<E> for Reply {
    fn from(error: E) -> Self {
        Reply(Box::new(failure(&error)))
    }
}

pub fn failure(error: &dyn Failure) -> Response<Bytes> {
    let code = error.code();
    match code {
        Code::Internal => {
            tracing::error!(error = %chain(error), "internal error");
            return problem(code, code.title().to_owned(), Vec::new(), None);
        }
        Code::ServiceUnavailable => {
            tracing::warn!(error = %chain(error), "a dependency is unavailable");
            return problem(code, code.title().to_owned(), Vec::new(), error.retry_after());
        }
        _ => {}
    }
    problem(code, error.to_string(), error.field_errors(), error.retry_after())
}

pub fn problem(
    code: Code,
    detail: String,
    fields: Vec<FieldError>,
    retry_after: Option<u64>,
) -> Response<Bytes> {
    let body = Problem {
        kind: format!("https://teamgate.dev/problems/{}", code.as_str().replace('_', "-")),
        title: code.title(),
        status: code.status(),
        code: code.as_str(),
        detail,
        errors: (code == Code::ValidationFailed).then_some(fields),
    };
    let mut response = Response::new(Bytes::from(serde_json::to_vec(&body).expect("problems serialize")));
    *response.status_mut() = StatusCode::from_u16(code.status()).expect("a valid status");
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The error and its sources on one line, for the log.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
