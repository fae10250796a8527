//! API Gateway's Lambda authorizer requests, shaped as AWS documents them: an HTTP API's
//! (payload format 2.0) and a REST API's REQUEST authorizer's. Both name the route API Gateway
//! matched (`route`, a template such as `/sellers/{account_id}/orders`) and carry the path
//! parameters and headers given.

use serde_json::{Value, json};

/// The concrete path of `route` with `parameters` put in.
fn raw_path(route: &str, parameters: &[(&str, &str)]) -> String {
    parameters
        .iter()
        .fold(route.to_owned(), |path, (name, value)| path.replace(&format!("{{{name}}}"), value))
}

fn map(pairs: &[(&str, &str)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect())
}

/// An HTTP API's authorizer request, payload 2.0; header names lower-cased, as HTTP APIs send them.
pub fn http_api_event(
    method: &str,
    route: &str,
    parameters: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Value {
    let path = raw_path(route, parameters);
    let lowered: Vec<(String, &str)> = headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), *v)).collect();
    let headers: Vec<(&str, &str)> = lowered.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/{method}{path}"),
        "identitySource": headers.iter().filter(|(n, _)| *n == "authorization").map(|(_, v)| *v).collect::<Vec<_>>(),
        "routeKey": format!("{method} {route}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": map(&headers),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "domainName": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "seller-tool/1.0"},
            "requestId": "authorizer-request",
            "routeKey": format!("{method} {route}"),
            "stage": "$default",
            "time": "30/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_796_032_800_000u64
        },
        "pathParameters": map(parameters),
        "stageVariables": {}
    })
}

/// An HTTP API's authorizer request for its catch-all `$default` route: the route is the path.
pub fn http_api_catch_all_event(method: &str, path: &str, headers: &[(&str, &str)]) -> Value {
    let mut event = http_api_event(method, path, &[], headers);
    event["routeKey"] = json!("$default");
    event["requestContext"]["routeKey"] = json!("$default");
    event.as_object_mut().expect("an object").remove("pathParameters");
    event
}

/// The method ARN of a REST API request, as the policy must name it.
pub fn method_arn(method: &str, route: &str, parameters: &[(&str, &str)]) -> String {
    format!(
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/{method}{}",
        raw_path(route, parameters)
    )
}

/// A REST API's REQUEST authorizer request; header names as the client sent them.
pub fn rest_event(method: &str, route: &str, parameters: &[(&str, &str)], headers: &[(&str, &str)]) -> Value {
    let path = raw_path(route, parameters);
    json!({
        "type": "REQUEST",
        "methodArn": method_arn(method, route, parameters),
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": map(headers),
        "multiValueHeaders": Value::Object(headers.iter().map(|(k, v)| ((*k).to_owned(), json!([v]))).collect()),
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": map(parameters),
        "stageVariables": {},
        "requestContext": {
            "path": format!("/prod{path}"),
            "accountId": "123456789012",
            "resourceId": "05c7jb",
            "stage": "prod",
            "requestId": "authorizer-request",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "seller-tool/1.0"},
            "resourcePath": route,
            "httpMethod": method,
            "apiId": "abcdef123"
        }
    })
}

/// What a REST API makes of its authorizer's answer: `allow`, the reason a Deny policy gives, or
/// the message of a failure (`Unauthorized` is API Gateway's 401).
pub fn verdict(answer: Result<Value, String>) -> String {
    match answer {
        Ok(policy) if policy["policyDocument"]["Statement"][0]["Effect"] == "Allow" => "allow".into(),
        Ok(policy) => policy["context"]["reason"].as_str().unwrap_or("no reason").to_owned(),
        Err(message) => message,
    }
}
