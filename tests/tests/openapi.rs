//! `openapi.yaml` describes exactly the route table and the error vocabulary of the code:
//! every check here lists all the differences it finds, not just the first.

use serde_json::Value;
use shared::http::routes::{Function, ROUTES};
use shared::service::failure::Code;
use std::collections::{BTreeMap, BTreeSet};

const HTTP_METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// `CreateAccount` → `create_account`.
fn snake_case(camel: &str) -> String {
    let mut snake = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// Follows a local `$ref` (`#/components/...`) until it reaches the object itself.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..16 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local references are used: {reference}"));
        value = spec.pointer(pointer).unwrap_or_else(|| panic!("{reference} does not resolve"));
    }
    panic!("a reference cycle")
}

/// Every (method, path) → operation in `paths`.
fn operations(spec: &Value) -> BTreeMap<(String, String), &Value> {
    let paths = spec["paths"].as_object().expect("`paths` is a mapping");
    let mut found = BTreeMap::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is a mapping");
        for (key, operation) in item {
            if HTTP_METHODS.contains(&key.as_str()) {
                found.insert((key.clone(), path.clone()), operation);
            }
        }
    }
    found
}

fn assert_no_differences(what: &str, differences: Vec<String>) {
    assert!(
        differences.is_empty(),
        "{what}: {} difference(s):\n  {}",
        differences.len(),
        differences.join("\n  ")
    );
}

#[test]
fn openapi_describes_exactly_the_routes_of_the_route_table() {
    let spec = spec();
    let documented = operations(&spec);
    let mut differences = Vec::new();
    let mut seen_ids = BTreeMap::new();

    for route in ROUTES {
        let key = (route.method.as_str().to_lowercase(), route.path.to_owned());
        let wanted = snake_case(&format!("{:?}", route.operation));
        match documented.get(&key) {
            None => differences.push(format!(
                "{} {} is in the route table but not in openapi.yaml",
                key.0.to_uppercase(),
                key.1
            )),
            Some(operation) => match operation.get("operationId").and_then(Value::as_str) {
                Some(id) if id == wanted => {}
                Some(id) => differences.push(format!(
                    "{} {}: operationId is `{id}`, the route's operation is `{wanted}`",
                    key.0.to_uppercase(),
                    key.1
                )),
                None => differences.push(format!(
                    "{} {}: no operationId (want `{wanted}`)",
                    key.0.to_uppercase(),
                    key.1
                )),
            },
        }
    }
    let table: BTreeSet<_> =
        ROUTES.iter().map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned())).collect();
    for ((method, path), operation) in &documented {
        if !table.contains(&(method.clone(), path.clone())) {
            differences.push(format!(
                "{} {path} is in openapi.yaml but not in the route table",
                method.to_uppercase()
            ));
        }
        if let Some(id) = operation.get("operationId").and_then(Value::as_str)
            && let Some(other) = seen_ids.insert(id.to_owned(), format!("{method} {path}"))
        {
            differences.push(format!("operationId `{id}` is used by both {other} and {method} {path}"));
        }
    }
    assert_no_differences("openapi.yaml against ROUTES", differences);
}

/// Every `Code`, in declaration order. `position` has no catch-all arm, so a new variant does not
/// compile until it is added here too; the test checks the two agree.
const ALL_CODES: [Code; 29] = [
    Code::ValidationFailed,
    Code::InvalidOrExpiredToken,
    Code::InvalidCursor,
    Code::Unauthenticated,
    Code::InvalidCredentials,
    Code::InvalidRefreshToken,
    Code::Forbidden,
    Code::RoleEscalation,
    Code::UserBlocked,
    Code::MemberBlocked,
    Code::NotFound,
    Code::InvitationNotFound,
    Code::EmailTaken,
    Code::PhoneTaken,
    Code::InvitationPending,
    Code::InvitationNotPending,
    Code::InvitationRevoked,
    Code::InvitationAlreadyAccepted,
    Code::OwnerProtected,
    Code::SelfActionForbidden,
    Code::MemberNotActive,
    Code::MemberAlreadyActive,
    Code::ConcurrentChange,
    Code::InvitationExpired,
    Code::PayloadTooLarge,
    Code::UnsupportedMediaType,
    Code::MethodNotAllowed,
    Code::RateLimited,
    Code::Internal,
];

fn position(code: Code) -> usize {
    match code {
        Code::ValidationFailed => 0,
        Code::InvalidOrExpiredToken => 1,
        Code::InvalidCursor => 2,
        Code::Unauthenticated => 3,
        Code::InvalidCredentials => 4,
        Code::InvalidRefreshToken => 5,
        Code::Forbidden => 6,
        Code::RoleEscalation => 7,
        Code::UserBlocked => 8,
        Code::MemberBlocked => 9,
        Code::NotFound => 10,
        Code::InvitationNotFound => 11,
        Code::EmailTaken => 12,
        Code::PhoneTaken => 13,
        Code::InvitationPending => 14,
        Code::InvitationNotPending => 15,
        Code::InvitationRevoked => 16,
        Code::InvitationAlreadyAccepted => 17,
        Code::OwnerProtected => 18,
        Code::SelfActionForbidden => 19,
        Code::MemberNotActive => 20,
        Code::MemberAlreadyActive => 21,
        Code::ConcurrentChange => 22,
        Code::InvitationExpired => 23,
        Code::PayloadTooLarge => 24,
        Code::UnsupportedMediaType => 25,
        Code::MethodNotAllowed => 26,
        Code::RateLimited => 27,
        Code::Internal => 28,
    }
}

/// The codes API.md's "Error codes" section names, with their statuses.
const API_MD_CODES: [(&str, u16); 24] = [
    ("validation_failed", 400),
    ("invalid_or_expired_token", 400),
    ("invalid_cursor", 400),
    ("unauthenticated", 401),
    ("invalid_credentials", 401),
    ("invalid_refresh_token", 401),
    ("forbidden", 403),
    ("role_escalation", 403),
    ("user_blocked", 403),
    ("not_found", 404),
    ("invitation_not_found", 404),
    ("email_taken", 409),
    ("phone_taken", 409),
    ("invitation_pending", 409),
    ("invitation_not_pending", 409),
    ("invitation_revoked", 409),
    ("invitation_already_accepted", 409),
    ("owner_protected", 409),
    ("self_action_forbidden", 409),
    ("member_not_active", 409),
    ("invitation_expired", 410),
    ("payload_too_large", 413),
    ("rate_limited", 429),
    ("internal", 500),
];

fn problem_code_enum(spec: &Value) -> Vec<String> {
    spec.pointer("/components/schemas/Problem/properties/code/enum")
        .and_then(Value::as_array)
        .expect("components.schemas.Problem.properties.code has an enum")
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("a code is a string: {v}")).to_owned())
        .collect()
}

#[test]
fn the_problem_code_enum_is_exactly_the_services_error_codes() {
    for (i, code) in ALL_CODES.iter().enumerate() {
        assert_eq!(position(*code), i, "ALL_CODES and position disagree on {code:?}");
    }
    let listed = problem_code_enum(&spec());
    let mut differences = Vec::new();
    let mut documented = BTreeSet::new();
    for code in &listed {
        if code.trim().is_empty() {
            differences.push("an empty code in the enum".to_owned());
        }
        if !documented.insert(code.as_str()) {
            differences.push(format!("`{code}` is listed twice"));
        }
    }
    let service: BTreeSet<&str> = ALL_CODES.iter().map(|c| c.as_str()).collect();
    for code in service.difference(&documented) {
        differences.push(format!("`{code}` is a Code but not in the Problem enum"));
    }
    for code in documented.difference(&service) {
        differences.push(format!("`{code}` is in the Problem enum but is no Code"));
    }
    for (code, status) in API_MD_CODES {
        if !documented.contains(code) {
            differences.push(format!("API.md's `{code}` is not in the Problem enum"));
        }
        match ALL_CODES.iter().find(|c| c.as_str() == code) {
            Some(c) if c.status() == status => {}
            Some(c) => {
                differences.push(format!("API.md gives `{code}` status {status}, the service {}", c.status()))
            }
            None => differences.push(format!("API.md's `{code}` is no Code")),
        }
    }
    assert_no_differences("the Problem code enum", differences);
}

#[test]
fn problem_responses_name_only_codes_of_their_own_status() {
    let spec = spec();
    let status_of: BTreeMap<&str, u16> = ALL_CODES.iter().map(|c| (c.as_str(), c.status())).collect();
    let mut differences = Vec::new();
    for ((method, path), operation) in operations(&spec) {
        let responses =
            operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path} has responses"));
        for (status, response) in responses {
            let response = resolve(&spec, response);
            let Some(schema) = response.pointer("/content/application~1problem+json/schema") else {
                if status.starts_with('4') || status.starts_with('5') {
                    differences.push(format!("{method} {path} {status}: not a problem+json"));
                }
                continue;
            };
            let codes: Vec<&str> = schema["allOf"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|part| part.pointer("/properties/code/enum"))
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if codes.is_empty() {
                differences.push(format!("{method} {path} {status}: names no code"));
            }
            for code in codes {
                match status_of.get(code) {
                    None => differences.push(format!("{method} {path} {status}: `{code}` is no Code")),
                    Some(s) if s.to_string() != *status => {
                        differences.push(format!("{method} {path} {status}: `{code}` is a {s}"))
                    }
                    Some(_) => {}
                }
            }
            if status == "429" && response.pointer("/headers/Retry-After").is_none() {
                differences.push(format!("{method} {path} 429: no Retry-After header"));
            }
        }
    }
    assert_no_differences("problem responses", differences);
}

#[test]
fn operations_declare_their_parameters_bodies_guards_and_dev_status() {
    let spec = spec();
    let documented = operations(&spec);
    let mut differences = Vec::new();
    for route in ROUTES {
        let method = route.method.as_str().to_lowercase();
        let Some(operation) = documented.get(&(method.clone(), route.path.to_owned())) else {
            continue; // reported by the route table test
        };
        let at = format!("{method} {}", route.path);

        let in_path: BTreeSet<&str> =
            route.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(&spec, p))
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str())
            .collect();
        if in_path != declared {
            differences.push(format!("{at}: path parameters {in_path:?}, declared {declared:?}"));
        }

        if let Some(body) = operation.get("requestBody") {
            let schema = resolve(&spec, &resolve(&spec, body)["content"]["application/json"]["schema"]);
            if schema["additionalProperties"] != Value::Bool(false) {
                differences.push(format!("{at}: the body schema allows unknown fields"));
            }
            for status in ["400", "413", "415"] {
                if operation["responses"].get(status).is_none() {
                    differences.push(format!("{at}: has a body but no {status}"));
                }
            }
        }

        let schemes: BTreeSet<&str> = operation["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|requirement| requirement.keys().map(String::as_str))
            .collect();
        let wanted: BTreeSet<&str> = if route.path.starts_with("/v1/operator/") {
            ["operatorKey"].into()
        } else if route.path.starts_with("/v1/accounts/") || route.path.starts_with("/v1/me") {
            ["bearerAuth"].into()
        } else {
            BTreeSet::new()
        };
        if schemes != wanted {
            differences.push(format!("{at}: security {schemes:?}, want {wanted:?}"));
        }
        if !wanted.is_empty() && operation["responses"].get("401").is_none() {
            differences.push(format!("{at}: guarded but documents no 401"));
        }

        let dev = route.function == Function::Dev;
        let marked = operation.get("x-dev-only") == Some(&Value::Bool(true));
        let tagged = operation["tags"].as_array().is_some_and(|tags| tags.iter().any(|t| t == "dev"));
        if dev != marked || dev != tagged {
            differences
                .push(format!("{at}: dev-only route {dev}, but x-dev-only {marked} and tag dev {tagged}"));
        }
    }
    assert_no_differences("operations", differences);
}

#[test]
fn camel_case_operations_become_snake_case_ids() {
    assert_eq!(snake_case("CreateAccount"), "create_account");
    assert_eq!(snake_case("Jwks"), "jwks");
    assert_eq!(snake_case("ResetPasswordPage"), "reset_password_page");
}
