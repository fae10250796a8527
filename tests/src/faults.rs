//! A fault-injecting proxy between the application and an emulator (DynamoDB Local, moto): each
//! call passes, fails at once, is throttled, stalls, or is applied and then has its answer lost,
//! as the test's plan says. The SDK clients reach it as their endpoint, so what they see is what
//! a real outage looks like on the wire.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the proxy does with one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded, and its answer returned.
    Pass,
    /// Answered `500 InternalServerError` without reaching the service.
    ServerError,
    /// Answered `400 ThrottlingException` without reaching the service.
    Throttled,
    /// Never answered: the client has to give up by itself.
    Stall,
    /// Forwarded and applied, then answered `500`: the answer is lost.
    AppliedThenLost,
    /// Answered `400 ValidationException`: the service refuses the request itself.
    Refused,
}

/// The plan: which fault each call meets, by the call's operation (DynamoDB's `X-Amz-Target`
/// without its prefix, or SES's path) and its number among all calls.
pub type Plan = Box<dyn Fn(&str, usize) -> Fault + Send + Sync>;

/// A running proxy; `set_plan` changes what later calls meet.
pub struct FaultProxy {
    pub endpoint: String,
    plan: Arc<Mutex<Plan>>,
    calls: Arc<AtomicUsize>,
    faults: Arc<Mutex<Vec<(String, Fault)>>>,
}

impl FaultProxy {
    /// A proxy in front of `upstream` (an emulator's endpoint), letting every call pass.
    pub async fn start(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
        let plan: Arc<Mutex<Plan>> = Arc::new(Mutex::new(Box::new(|_: &str, _| Fault::Pass)));
        let calls = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            plan: plan.clone(),
            calls: calls.clone(),
            faults: faults.clone(),
            http: reqwest::Client::new(),
        };
        tokio::spawn(accept(listener, Arc::new(shared)));
        Self { endpoint, plan, calls, faults }
    }

    pub fn set_plan(&self, plan: impl Fn(&str, usize) -> Fault + Send + Sync + 'static) {
        *self.plan.lock().expect("the plan") = Box::new(plan);
    }

    /// Every call meets `fault`.
    pub fn always(&self, fault: Fault) {
        self.set_plan(move |_, _| fault);
    }

    /// The calls that met a fault so far, with their operation.
    pub fn faults(&self) -> Vec<(String, Fault)> {
        self.faults.lock().expect("the faults").clone()
    }

    /// How many calls the proxy has seen.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

struct Shared {
    upstream: String,
    plan: Arc<Mutex<Plan>>,
    calls: Arc<AtomicUsize>,
    faults: Arc<Mutex<Vec<(String, Fault)>>>,
    http: reqwest::Client,
}

async fn accept(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(relay(&shared, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn relay(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let operation = match parts.headers.get("x-amz-target").and_then(|t| t.to_str().ok()) {
        Some(target) => target.rsplit('.').next().unwrap_or(target).to_owned(),
        None => parts.uri.path().to_owned(),
    };
    let number = shared.calls.fetch_add(1, Ordering::SeqCst);
    let fault = (shared.plan.lock().expect("the plan"))(&operation, number);
    if fault != Fault::Pass {
        shared.faults.lock().expect("the faults").push((operation.clone(), fault));
    }
    match fault {
        Fault::ServerError => aws_error(500, "InternalServerError"),
        Fault::Throttled => aws_error(400, "ThrottlingException"),
        Fault::Refused => aws_error(400, "ValidationException"),
        Fault::Stall => std::future::pending().await,
        Fault::Pass | Fault::AppliedThenLost => {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let mut forwarded =
                shared.http.request(parts.method.clone(), format!("{}{path}", shared.upstream));
            for (name, value) in &parts.headers {
                if name != hyper::header::HOST {
                    forwarded = forwarded.header(name, value);
                }
            }
            let answer = match forwarded.body(body).send().await {
                Ok(answer) => answer,
                Err(_) => return aws_error(502, "BadGateway"),
            };
            if fault == Fault::AppliedThenLost {
                return aws_error(500, "InternalServerError");
            }
            let mut response = Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                response = response.header(name, value);
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            response.body(Full::new(bytes)).expect("a relayed response")
        }
    }
}

/// An AWS JSON-protocol error, as DynamoDB sends one (SES's REST protocol reads the same type
/// header).
fn aws_error(status: u16, code: &str) -> Response<Full<Bytes>> {
    let body = format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"injected"}}"#);
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-errortype", code)
        .body(Full::new(Bytes::from(body)))
        .expect("an error response")
}
