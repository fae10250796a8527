//! `openapi.yaml` describes exactly the route table and the error vocabulary of the code:
//! every check here lists all the differences it finds, not just the first.

use serde_json::Value;
use shared::domain::api_key::{DEFAULT_KEY_DAYS, MOST_GRACE_HOURS, MOST_KEY_DAYS};
use shared::http::routes::{Function, Guard, ROUTES};
use shared::service::support::failure::Code;
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
const ALL_CODES: [Code; 49] = [
    Code::ValidationFailed,
    Code::InvalidOrExpiredToken,
    Code::InvalidCursor,
    Code::InvalidMfaCode,
    Code::Unauthenticated,
    Code::InvalidCredentials,
    Code::InvalidRefreshToken,
    Code::InvalidMfaChallenge,
    Code::Forbidden,
    Code::RoleEscalation,
    Code::UserBlocked,
    Code::NetworkNotAllowed,
    Code::MemberBlocked,
    Code::MfaEnrollmentRequired,
    Code::MfaStepUpRequired,
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
    Code::ApiKeyNotActive,
    Code::SeatLimitReached,
    Code::ApiKeyLimitReached,
    Code::AddressRefused,
    Code::MfaAlreadyEnabled,
    Code::MfaNotEnabled,
    Code::MfaNotEnrolling,
    Code::MfaRequiredByAccount,
    Code::MemberOfOtherAccounts,
    Code::ConcurrentChange,
    Code::InvitationExpired,
    Code::PayloadTooLarge,
    Code::UnsupportedMediaType,
    Code::MethodNotAllowed,
    Code::RateLimited,
    Code::Internal,
    Code::ServiceUnavailable,
    Code::IdempotencyKeyReused,
    Code::RequestInProgress,
    Code::RoleInUse,
    Code::RoleLimitReached,
    Code::RoleNameTaken,
];

fn position(code: Code) -> usize {
    match code {
        Code::ValidationFailed => 0,
        Code::InvalidOrExpiredToken => 1,
        Code::InvalidCursor => 2,
        Code::InvalidMfaCode => 3,
        Code::Unauthenticated => 4,
        Code::InvalidCredentials => 5,
        Code::InvalidRefreshToken => 6,
        Code::InvalidMfaChallenge => 7,
        Code::Forbidden => 8,
        Code::RoleEscalation => 9,
        Code::UserBlocked => 10,
        Code::NetworkNotAllowed => 11,
        Code::MemberBlocked => 12,
        Code::MfaEnrollmentRequired => 13,
        Code::MfaStepUpRequired => 14,
        Code::NotFound => 15,
        Code::InvitationNotFound => 16,
        Code::EmailTaken => 17,
        Code::PhoneTaken => 18,
        Code::InvitationPending => 19,
        Code::InvitationNotPending => 20,
        Code::InvitationRevoked => 21,
        Code::InvitationAlreadyAccepted => 22,
        Code::OwnerProtected => 23,
        Code::SelfActionForbidden => 24,
        Code::MemberNotActive => 25,
        Code::MemberAlreadyActive => 26,
        Code::ApiKeyNotActive => 27,
        Code::SeatLimitReached => 28,
        Code::ApiKeyLimitReached => 29,
        Code::AddressRefused => 30,
        Code::MfaAlreadyEnabled => 31,
        Code::MfaNotEnabled => 32,
        Code::MfaNotEnrolling => 33,
        Code::MfaRequiredByAccount => 34,
        Code::MemberOfOtherAccounts => 35,
        Code::ConcurrentChange => 36,
        Code::InvitationExpired => 37,
        Code::PayloadTooLarge => 38,
        Code::UnsupportedMediaType => 39,
        Code::MethodNotAllowed => 40,
        Code::RateLimited => 41,
        Code::Internal => 42,
        Code::ServiceUnavailable => 43,
        Code::IdempotencyKeyReused => 44,
        Code::RequestInProgress => 45,
        Code::RoleInUse => 46,
        Code::RoleLimitReached => 47,
        Code::RoleNameTaken => 48,
    }
}

/// The codes published before this version, with their statuses: clients branch on them, so
/// none may disappear or change status.
const PUBLISHED_CODES: [(&str, u16); 24] = [
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
fn the_audit_action_enum_is_exactly_the_domains_actions() {
    let spec = spec();
    let documented: Vec<String> = spec
        .pointer("/components/schemas/AuditEvent/properties/action/enum")
        .and_then(Value::as_array)
        .expect("AuditEvent.action has an enum")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect();
    let mut actions: Vec<String> = shared::domain::AuditAction::ALL
        .iter()
        .map(|a| serde_json::to_value(a).expect("serializes").as_str().expect("a string").to_owned())
        .collect();
    let mut sorted = documented.clone();
    sorted.sort();
    actions.sort();
    assert_eq!(sorted, actions, "openapi.yaml's AuditEvent.action and AuditAction::ALL");
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
    for (code, status) in PUBLISHED_CODES {
        if !documented.contains(code) {
            differences.push(format!("published `{code}` is not in the Problem enum"));
        }
        match ALL_CODES.iter().find(|c| c.as_str() == code) {
            Some(c) if c.status() == status => {}
            Some(c) => differences.push(format!(
                "`{code}` was published with status {status}, the service gives {}",
                c.status()
            )),
            None => differences.push(format!("published `{code}` is no Code")),
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
            // A format of another service's (SES's events) is taken as it comes.
            if schema["additionalProperties"] != Value::Bool(false) && schema["x-foreign-format"] != true {
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
        let wanted: BTreeSet<&str> = match route.guard {
            Guard::Operator => ["operatorKey"].into(),
            Guard::SignedIn | Guard::Member(_) | Guard::Owner => ["bearerAuth"].into(),
            // An access token, or instead an account's API key.
            Guard::SignedInOrKey => ["bearerAuth", "apiKey"].into(),
            Guard::Anonymous | Guard::Dev => BTreeSet::new(),
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

/// Every string under a key named `roles`, `permissions`, `effective_permissions` or `role`
/// anywhere inside `value` (an example), with where it was found.
fn granted_names(
    value: &Value,
    at: &str,
    roles: &mut Vec<(String, String)>,
    permissions: &mut Vec<(String, String)>,
) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let strings = || {
                    let list: Vec<&Value> = match inner {
                        Value::Array(items) => items.iter().collect(),
                        single => vec![single],
                    };
                    list.into_iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>()
                };
                match key.as_str() {
                    "roles" | "role" => roles.extend(strings().into_iter().map(|r| (r, at.to_owned()))),
                    "permissions" | "effective_permissions" => {
                        permissions.extend(strings().into_iter().map(|p| (p, at.to_owned())))
                    }
                    _ => granted_names(inner, &format!("{at}/{key}"), roles, permissions),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                granted_names(item, &format!("{at}/{i}"), roles, permissions);
            }
        }
        _ => {}
    }
}

/// Every `example`/`examples` in the spec, with its JSON pointer and the schema or parameter it
/// belongs to.
fn examples<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a Value, &'a Value)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let here = format!("{at}/{key}");
                if key == "example" || key == "examples" {
                    found.push((here.clone(), value, inner));
                }
                examples(inner, here, found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                examples(item, format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_example_role_and_permission_is_one_of_the_standard_presets() {
    let spec = spec();
    let presets = shared::domain::Presets::compiled();
    let standard = presets.get("standard").expect("the standard preset");
    let roles: BTreeSet<&str> = standard.roles.iter().map(|r| r.name.as_str()).collect();
    let sections: BTreeSet<&str> = standard.sections.iter().map(|s| s.id.as_str()).collect();

    let mut named_roles = Vec::new();
    let mut named_permissions = Vec::new();
    let mut found = Vec::new();
    examples(&spec, String::new(), &mut found);
    let role_schema = &spec["components"]["schemas"]["RoleName"];
    let permission_schema = &spec["components"]["schemas"]["Permission"];
    let role_parameter = &spec["components"]["parameters"]["Role"];
    for (at, owner, example) in &found {
        let values: Vec<&Value> = match example {
            Value::Array(items) => items.iter().collect(),
            // An OpenAPI `examples` map: name → { value }.
            Value::Object(map) if map.values().all(|e| e.get("value").is_some()) => {
                map.values().map(|e| &e["value"]).collect()
            }
            single => vec![single],
        };
        for value in values {
            if std::ptr::eq(*owner, role_schema) || std::ptr::eq(*owner, role_parameter) {
                named_roles.extend(value.as_str().map(|r| (r.to_owned(), at.clone())));
            } else if std::ptr::eq(*owner, permission_schema) {
                named_permissions.extend(value.as_str().map(|p| (p.to_owned(), at.clone())));
            } else {
                granted_names(value, at, &mut named_roles, &mut named_permissions);
            }
        }
    }
    assert!(!named_roles.is_empty() && !named_permissions.is_empty(), "the spec has examples to check");

    let mut differences = Vec::new();
    for (role, at) in &named_roles {
        if !roles.contains(role.as_str()) {
            differences.push(format!("{at}: `{role}` is no role of the standard preset ({roles:?})"));
        }
    }
    for (permission, at) in &named_permissions {
        let known = permission
            .split_once(':')
            .is_some_and(|(section, level)| sections.contains(section) && ["read", "write"].contains(&level));
        if !known {
            differences.push(format!("{at}: `{permission}` is no permission of the standard preset"));
        }
    }
    assert_no_differences("examples", differences);
}

/// A schema's integer keyword, following `$ref`s.
fn bound(spec: &Value, pointer: &str, keyword: &str) -> Option<u64> {
    resolve(spec, spec.pointer(pointer).unwrap_or_else(|| panic!("{pointer} is in the spec")))[keyword]
        .as_u64()
}

fn enum_strings(spec: &Value, pointer: &str) -> BTreeSet<String> {
    let schema = resolve(spec, spec.pointer(pointer).unwrap_or_else(|| panic!("{pointer} is in the spec")));
    schema["enum"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// What `^[a-z][a-z0-9_]*$` (RoleName) and `^[a-z_]+:(read|write)$` (Permission) accept.
fn role_name_shaped(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn permission_shaped(permission: &str) -> bool {
    permission.split_once(':').is_some_and(|(section, level)| {
        !section.is_empty()
            && section.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && ["read", "write"].contains(&level)
    })
}

#[test]
fn the_spec_states_the_bounds_every_preset_keeps() {
    let spec = spec();
    let presets = shared::domain::Presets::compiled();
    let all: Vec<_> = presets.ids().map(|id| presets.get(id).expect("listed")).collect();
    let mut differences = Vec::new();
    let mut expect = |what: &str, documented: Option<u64>, wanted: u64| {
        if documented != Some(wanted) {
            differences.push(format!("{what}: the spec says {documented:?}, the presets {wanted}"));
        }
    };

    let longest_ttl = all.iter().map(|p| u64::from(p.invitation_ttl_hours)).max().expect("presets");
    for pointer in [
        "/components/schemas/UpdateSettingsRequest/properties/invitation_ttl_hours",
        "/components/schemas/AccountSettings/properties/invitation_ttl_hours",
    ] {
        expect(&format!("{pointer} maximum"), bound(&spec, pointer, "maximum"), longest_ttl);
        expect(&format!("{pointer} minimum"), bound(&spec, pointer, "minimum"), 1);
    }
    let shortest_password = all.iter().map(|p| p.password.min_length as u64).min().expect("presets");
    let longest_password = all.iter().map(|p| p.password.max_length as u64).max().expect("presets");
    let new_password = "/components/schemas/NewPassword";
    expect("NewPassword minLength", bound(&spec, new_password, "minLength"), shortest_password);
    expect("NewPassword maxLength", bound(&spec, new_password, "maxLength"), longest_password);
    for pointer in [
        "/components/schemas/AcceptRequest/properties/password",
        "/components/schemas/PasswordResetConfirmRequest/properties/new_password",
        "/components/schemas/ChangePasswordRequest/properties/new_password",
    ] {
        expect(&format!("{pointer} minLength"), bound(&spec, pointer, "minLength"), shortest_password);
    }
    expect(
        "the account name's maxLength",
        bound(&spec, "/components/schemas/CreateAccountRequest/properties/name", "maxLength"),
        200,
    );
    expect("an email's maxLength", bound(&spec, "/components/schemas/EmailAddress", "maxLength"), 254);
    expect("a name's maxLength", bound(&spec, "/components/schemas/PersonName/anyOf/0", "maxLength"), 100);
    expect(
        "refused domains' maxItems",
        bound(
            &spec,
            "/components/schemas/UpdateSettingsRequest/properties/blocked_email_domains",
            "maxItems",
        ),
        100,
    );
    expect(
        "the permissions one authorize asks about, maxItems",
        bound(&spec, "/components/schemas/AuthorizeRequest/properties/permissions", "maxItems"),
        shared::service::authorize::MAX_PERMISSIONS_ASKED as u64,
    );
    let key = "/components/schemas/CreateApiKeyRequest/properties";
    let days = format!("{key}/expires_in_days");
    expect("a key's expires_in_days minimum", bound(&spec, &days, "minimum"), 1);
    expect("a key's expires_in_days maximum", bound(&spec, &days, "maximum"), MOST_KEY_DAYS.into());
    expect("a key's expires_in_days default", bound(&spec, &days, "default"), DEFAULT_KEY_DAYS.into());
    expect("a key's name maxLength", bound(&spec, &format!("{key}/name"), "maxLength"), 100);
    expect("a key's permissions minItems", bound(&spec, &format!("{key}/permissions"), "minItems"), 1);
    expect("a key's networks maxItems", bound(&spec, &format!("{key}/networks"), "maxItems"), 20);
    let grace = "/components/schemas/RotateApiKeyRequest/properties/grace_hours";
    expect("grace_hours minimum", bound(&spec, grace, "minimum"), 0);
    expect("grace_hours maximum", bound(&spec, grace, "maximum"), MOST_GRACE_HOURS.into());
    expect("limit minimum", bound(&spec, "/components/parameters/Limit/schema", "minimum"), 1);
    expect("limit maximum", bound(&spec, "/components/parameters/Limit/schema", "maximum"), 100);
    expect("cursor minLength", bound(&spec, "/components/parameters/Cursor/schema", "minLength"), 1);

    let ids: BTreeSet<String> = presets.ids().map(str::to_owned).collect();
    if enum_strings(&spec, "/components/schemas/PresetId") != ids {
        differences.push(format!("PresetId's enum is not the built-in presets {ids:?}"));
    }
    let locales: BTreeSet<String> = ["en", "uk", "pl"].map(str::to_owned).into();
    for pointer in ["/components/schemas/Locale", "/components/schemas/LocaleInput"] {
        let listed: BTreeSet<String> = enum_strings(&spec, pointer).into_iter().collect();
        if listed != locales {
            differences.push(format!("{pointer}: enum {listed:?}, want {locales:?}"));
        }
    }
    for locale in &locales {
        if shared::domain::Locale::parse(locale).is_none() {
            differences.push(format!("the server does not take the locale `{locale}`"));
        }
    }
    if spec.pointer("/components/schemas/RoleName/pattern") != Some(&Value::from("^[a-z][a-z0-9_]*$")) {
        differences.push("RoleName's pattern is not the one this test checks the presets against".into());
    }
    if spec.pointer("/components/schemas/Permission/pattern") != Some(&Value::from("^[a-z_]+:(read|write)$"))
    {
        differences.push("Permission's pattern is not the one this test checks the presets against".into());
    }
    for preset in &all {
        for role in &preset.roles {
            if !role_name_shaped(role.name.as_str()) {
                differences.push(format!("{}: role `{}` does not match RoleName", preset.id, role.name));
            }
        }
        for section in &preset.sections {
            for level in ["read", "write"] {
                let permission = format!("{}:{level}", section.id);
                if !permission_shaped(&permission) {
                    differences.push(format!("{}: `{permission}` does not match Permission", preset.id));
                }
            }
        }
    }
    assert_no_differences("bounds", differences);
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The second argument of every `FieldError::new(field, "code", ...)` that is a string literal.
fn literal_field_codes(source: &str) -> Vec<String> {
    let mut codes = Vec::new();
    for (start, _) in source.match_indices("FieldError::new(") {
        let rest = &source[start + "FieldError::new(".len()..];
        // Skip the first argument: up to the first comma outside brackets.
        let mut depth = 0i32;
        let mut second = None;
        for (i, c) in rest.char_indices() {
            match c {
                '(' | '{' | '[' => depth += 1,
                ')' | '}' | ']' if depth == 0 => break,
                ')' | '}' | ']' => depth -= 1,
                ',' if depth == 0 => {
                    second = Some(&rest[i + 1..]);
                    break;
                }
                _ => {}
            }
        }
        if let Some(literal) = second.map(str::trim_start).and_then(|s| s.strip_prefix('"'))
            && let Some(end) = literal.find('"')
        {
            codes.push(literal[..end].to_owned());
        }
    }
    codes
}

#[test]
fn the_field_code_vocabulary_is_exactly_the_codes_the_server_gives() {
    let spec = spec();
    let vocabulary = enum_strings(&spec, "/components/schemas/FieldError/properties/code");
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/src"));
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let sources: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect();
    let mut differences = Vec::new();
    let given: BTreeSet<String> = sources.iter().flat_map(|s| literal_field_codes(s)).collect();
    assert!(
        given.contains("unknown_field") && given.contains("duplicate_key"),
        "the scan finds codes: {given:?}"
    );
    for code in given.difference(&vocabulary) {
        differences.push(format!("`{code}` is a field code of the server but not in FieldError's enum"));
    }
    let description = resolve(&spec, &spec["components"]["responses"]["ValidationFailed"])["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for code in &vocabulary {
        let quoted = format!("\"{code}\"");
        if !sources.iter().any(|s| s.contains(&quoted)) {
            differences.push(format!("`{code}` is in FieldError's enum but no string of the server"));
        }
        if !description.contains(&format!("`{code}`")) {
            differences.push(format!("`{code}` is not explained in the ValidationFailed response"));
        }
    }
    assert_no_differences("field codes", differences);
}

/// A concrete URL path for a route: the owner's account, and ids that name nothing.
fn concrete(path: &str, account_id: &str) -> String {
    path.replace("{account_id}", account_id)
        .replace("{user_id}", "00000000-0000-7000-8000-000000000000")
        .replace("{invitation_id}", "00000000-0000-7000-8000-000000000001")
        .replace("{key_id}", "00000000-0000-7000-8000-000000000002")
}

#[tokio::test]
async fn every_route_that_reads_a_body_wants_json_that_gives_each_key_once() {
    let app = tests::app::spawn_app().await;
    let owner = app.owner("standard", "owner@contract.example").await;
    let spec = spec();
    let http = reqwest::Client::new();
    let mut differences = Vec::new();
    for ((method, path), operation) in operations(&spec) {
        let reads_body = operation.get("requestBody").is_some();
        let url = format!("{}{}", app.base, concrete(&path, &owner.account_id));
        let send = |content_type: Option<&str>, body: &'static str| {
            let mut request = http
                .request(method.to_uppercase().parse().expect("a method"), &url)
                .bearer_auth(&owner.token)
                .header("x-operator-key", &app.operator_key)
                .body(body);
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            async move {
                let response = request.send().await.expect("the server answers");
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                (status, body)
            }
        };
        if reads_body {
            for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
                let (status, body) = send(content_type, "{}").await;
                if (status, body["code"].as_str()) != (415, Some("unsupported_media_type")) {
                    differences
                        .push(format!("{method} {path} with Content-Type {content_type:?}: {status} {body}"));
                }
            }
            let (status, body) = send(Some("application/json"), r#"{"x": 1, "x": 2}"#).await;
            let fields = body["errors"].as_array().cloned().unwrap_or_default();
            let named = fields.iter().map(|e| (e["field"].as_str(), e["code"].as_str())).collect::<Vec<_>>();
            if status != 400 || named != [(Some("body"), Some("duplicate_key"))] {
                differences.push(format!("{method} {path} with a key given twice: {status} {body}"));
            }
        } else if method != "get" && method != "delete" {
            // It reads no body, so neither a missing nor a foreign Content-Type is refused.
            for content_type in [None, Some("text/plain")] {
                let (status, body) = send(content_type, "not json").await;
                if status == 415 || status == 400 {
                    differences.push(format!("{method} {path} without a body to read: {status} {body}"));
                }
            }
        }
    }
    assert_no_differences("bodies", differences);
}

#[tokio::test]
async fn lists_refuse_an_empty_cursor_and_invitations_need_a_grant() {
    let app = tests::app::spawn_app().await;
    let owner = app.owner("standard", "owner@contract.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    for list in ["members", "invitations", "audit-events"] {
        let empty = app.get_as(&owner.token, &format!("{account}/{list}?cursor=")).await;
        assert_eq!((empty.status, empty.code()), (400, "invalid_cursor"), "{list}: {}", empty.body);
        let first = app.get_as(&owner.token, &format!("{account}/{list}?limit=1")).await;
        assert_eq!(first.status, 200, "{list}: {}", first.body);
        if let Some(cursor) = first.body["next_cursor"].as_str() {
            let next = app.get_as(&owner.token, &format!("{account}/{list}?limit=1&cursor={cursor}")).await;
            assert_eq!(next.status, 200, "{list}: {}", next.body);
        }
    }
    let invitations = format!("{account}/invitations");
    for body in [
        serde_json::json!({"email": "anna@shop.example"}),
        serde_json::json!({"email": "anna@shop.example", "roles": [], "permissions": []}),
    ] {
        let refused = app.post_as(&owner.token, &invitations, body).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(refused.field_errors(), [("roles".to_owned(), "required".to_owned())]);
    }
    let unknown = app
        .post_as(
            &owner.token,
            &invitations,
            serde_json::json!({"email": "anna@shop.example", "roles": ["wizard"]}),
        )
        .await;
    assert_eq!(unknown.field_errors(), [("roles".to_owned(), "unknown_role".to_owned())]);
    let direct = app
        .post_as(
            &owner.token,
            &invitations,
            serde_json::json!({"email": "anna@shop.example", "permissions": ["orders:read"]}),
        )
        .await;
    assert_eq!(direct.status, 201, "{}", direct.body);
}
