//! The one place errors become responses: `application/problem+json` with a stable `code`.
//! Internal errors and outages are logged here, once, and answered without detail.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::domain::FieldError;
use crate::service::support::failure::{Code, Failure, Problem};

/// A response that ends a request early: an error already turned into its answer.
#[derive(Debug)]
pub struct Reply(pub Box<Response<Bytes>>);

impl<E: Failure> From<E> for Reply {
    fn from(error: E) -> Self {
        Reply(Box::new(failure(&error)))
    }
}

pub fn failure(error: &dyn Failure) -> Response<Bytes> {
    response(&Problem::of(error))
}

/// `error`'s problem, its document telling `members` too (what a refusal may still say: the
/// language of a spent invitation link, for one).
pub fn failure_telling(error: &dyn Failure, members: &impl serde::Serialize) -> Response<Bytes> {
    let problem = Problem::of(error);
    let mut document = serde_json::to_value(&problem).expect("problems serialize");
    if let (Some(document), serde_json::Value::Object(members)) =
        (document.as_object_mut(), serde_json::to_value(members).expect("members serialize"))
    {
        document.extend(members);
    }
    let mut response = response(&problem);
    *response.body_mut() = Bytes::from(serde_json::to_vec(&document).expect("JSON serializes"));
    response
}

pub fn problem(
    code: Code,
    detail: String,
    fields: Vec<FieldError>,
    retry_after: Option<u64>,
) -> Response<Bytes> {
    response(&Problem::new(code, detail, fields, retry_after))
}

fn response(problem: &Problem) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(serde_json::to_vec(problem).expect("problems serialize")));
    *response.status_mut() = StatusCode::from_u16(problem.status).expect("a valid status");
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if let Some(seconds) = problem.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
