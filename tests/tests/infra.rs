//! `infra/template.yaml` deploys exactly what the code is: the route table's routes on the
//! functions that serve them, one function per crate, memory and permissions sized to what each
//! function does, and a table that keeps its data; the Lambda authorizer reads, and writes
//! nothing but what a use of an API key writes (as `POST /v1/authorize`'s function), which the
//! store's own requests show to be exactly what those statements allow.
//! `infra/examples/seller-api.yaml`, the example of a marketplace API behind that authorizer,
//! leaves API Gateway's caching off and has a route in `infra/examples/route-map.toml` for every
//! route. Every check lists all the differences it finds, not just the first. The templates use
//! long-form intrinsic functions (`Ref:`, `Fn::Sub:`), so a plain YAML parser reads them.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::authorizer::DEFAULT_MAX_STALENESS_SECONDS;
use shared::authorizer::route_map::RouteMap;
use shared::domain::{AccountId, ApiKeyId, Presets};
use shared::http::routes::{Guard, Operation, ROUTES, Route};
use shared::ports::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use tests::assert_no_differences;
use tests::emulators::operation_of;
use tests::workspace::{self, declared_keys, deployed_routes, function_crates};

/// Item-level DynamoDB actions a function may have. Never `Scan` (lists query a partition) and
/// nothing that manages the table. A transaction is authorized by the actions it contains.
/// What a function that keeps TOTP secrets does with the key that seals them.
const SEAL_ACTIONS: &[&str] = &["kms:Encrypt", "kms:Decrypt"];
const READ_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"];
const WRITE_ACTIONS: &[&str] =
    &["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"];

const HASHING_MEMORY_MB: u64 = 1024;
const DEFAULT_MEMORY_MB: u64 = 256;

/// The Lambda authorizer's crate: no route of the table is its, the marketplace's own API
/// invokes it, and it is deployed only when given a route map (this condition).
const AUTHORIZER: &str = "authorizer";
const AUTHORIZER_CONDITION: &str = "HasAuthorizerRouteMap";
/// What the authorizer reads per decision: the account, user and member items, or an API key's
/// item, by their keys.
const AUTHORIZER_READS: &[&str] = &["dynamodb:GetItem", "dynamodb:BatchGetItem"];

/// One write a use of an API key makes (`Teamgate::use_api_key`), and the one statement that
/// allows it: `dynamodb:UpdateItem` on the table, on partitions whose key is `like` one of these
/// patterns, naming no attribute outside `attributes` (the item's keys, what it writes, what its
/// condition reads; the names of `shared/src/adapters/dynamodb/keys.rs`).
struct KeyUseWrite {
    sid: &'static str,
    leading_keys: &'static [&'static str],
    attributes: &'static [&'static str],
}

/// The key's rate counter (`Store::hit_rate_limit`, `RATE#<hash>#<window>` / `RATE`) and its
/// last use, at most once a minute (`Store::note_api_key_use`, `ACCOUNT#a` / `APIKEY#k`). Two
/// statements: one list of both would allow `expires_at`, the TTL attribute, on an account's
/// items, and TTL would delete them.
const KEY_USE_WRITES: &[KeyUseWrite] = &[
    KeyUseWrite {
        sid: "NoteKeyUse",
        leading_keys: &["ACCOUNT#*"],
        attributes: &["PK", "SK", "last_used_at"],
    },
    KeyUseWrite {
        sid: "CountKeyUse",
        leading_keys: &["RATE#*"],
        attributes: &["PK", "SK", "count", "expires_at"],
    },
];
/// What those writes may ask back: never `ALL_OLD` or `ALL_NEW`, which would return attributes
/// outside their lists.
const KEY_USE_RETURN_VALUES: &[&str] = &["NONE", "UPDATED_OLD", "UPDATED_NEW"];
/// `AUTHZ_MAX_STALENESS_SECONDS`'s bounds (shared/src/authorizer/mod.rs).
const MOST_STALENESS_SECONDS: i64 = 300;

/// The publisher's crate: fed by the table's stream, it reads audit items again and puts them on
/// the event bus; it may do that, and nothing else.
const PUBLISHER: &str = "publisher";
const PUBLISHER_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
    "dynamodb:BatchGetItem",
    "events:PutEvents",
    "sqs:SendMessage",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
];

/// The function SES's reports reach through an EventBridge rule (it writes the report on the
/// invitation and mails the inviter), and that sends the outbox's mail, fed by the table's
/// stream and swept on a schedule.
const MAIL_EVENTS: &str = "mail-events";
/// What a function fed by the table's stream, and only such a one, does besides its own work
/// (its role's, not SAM's managed policy, which reads every stream of the account).
const STREAM_ACTIONS: &[&str] = &[
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
];

const EXAMPLE_API: &str = "infra/examples/seller-api.yaml";
const EXAMPLE_ROUTE_MAP: &str = "infra/examples/route-map.toml";

fn template() -> Value {
    yaml("infra/template.yaml")
}

fn yaml(path: &str) -> Value {
    let text = workspace::read(path);
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// Whether a route only reads: a `GET`, or `POST /v1/authorize`, a question in a body.
fn reads_only(route: &Route) -> bool {
    route.method.as_str() == "GET" || route.operation == Operation::Authorize
}

/// Names of the functions that serve at least one route `with` the effect the route table
/// declares (`Route::effects`).
fn functions_serving(with: impl Fn(&Route) -> bool) -> BTreeSet<String> {
    deployed_routes().filter(|r| with(r)).map(|r| r.function.name().to_owned()).collect()
}

/// Whether the function judges API keys, and so writes what a use of one writes: the authorizer,
/// and the function of a route a key may call (`Guard::SignedInOrKey`: `POST /v1/authorize`).
fn judges_api_keys(name: &str) -> bool {
    name == AUTHORIZER
        || deployed_routes().any(|r| r.guard == Guard::SignedInOrKey && r.function.name() == name)
}

fn is_key_use(statement: &Value) -> bool {
    KEY_USE_WRITES.iter().any(|write| statement["Sid"] == write.sid)
}

/// The actions a function is allowed outside its key-use statements, if it judges API keys
/// (`key_use_differences` holds those to `KEY_USE_WRITES`); otherwise all of them.
fn actions_besides_key_use(name: &str, function: &FunctionResource) -> BTreeSet<String> {
    let judges = judges_api_keys(name);
    let statements = function.statements().into_iter().filter(|s| !(judges && is_key_use(s)));
    statements.flat_map(|s| strings(s.get("Action"))).collect()
}

/// The table alone, as a statement's `Resource` names it.
fn table_only() -> Value {
    json!([{"Fn::GetAtt": ["Table", "Arn"]}])
}

/// A statement's `Resource`, a list even when it names one.
fn resources(statement: &Value) -> Value {
    match &statement["Resource"] {
        Value::Array(_) => statement["Resource"].clone(),
        single => json!([single]),
    }
}

/// How a function that judges API keys departs from `KEY_USE_WRITES`: each write's statement,
/// once, exactly: `UpdateItem` on the table, its partitions, exactly its attributes, and no
/// `ALL_OLD` or `ALL_NEW`.
fn key_use_differences(name: &str, function: &FunctionResource) -> Vec<String> {
    let mut differences = Vec::new();
    let statements = function.statements();
    for write in KEY_USE_WRITES {
        let sid = write.sid;
        let found: Vec<&Value> = statements.iter().copied().filter(|s| s["Sid"] == sid).collect();
        let [statement] = found.as_slice() else {
            differences.push(format!(
                "{name}: want one statement {sid} (the UpdateItem of a key's use), found {}",
                found.len()
            ));
            continue;
        };
        if statement["Effect"] != "Allow" {
            differences.push(format!("{name} {sid}: Effect {}, want Allow", statement["Effect"]));
        }
        let actions = strings(statement.get("Action"));
        if actions != ["dynamodb:UpdateItem"] {
            differences.push(format!("{name} {sid}: Action is {actions:?}, want [dynamodb:UpdateItem]"));
        }
        if resources(statement) != table_only() {
            differences
                .push(format!("{name} {sid}: Resource is {}, want the table alone", resources(statement)));
        }
        let condition = &statement["Condition"];
        let operators: BTreeSet<&str> =
            condition.as_object().into_iter().flatten().map(|(operator, _)| operator.as_str()).collect();
        let wanted = [
            ("ForAllValues:StringLike", "dynamodb:LeadingKeys", write.leading_keys),
            ("ForAllValues:StringEquals", "dynamodb:Attributes", write.attributes),
            ("StringEqualsIfExists", "dynamodb:ReturnValues", KEY_USE_RETURN_VALUES),
        ];
        if operators != wanted.iter().map(|(operator, _, _)| *operator).collect() {
            differences.push(format!(
                "{name} {sid}: Condition tests {operators:?}, want exactly {:?}",
                wanted.map(|(operator, _, _)| operator)
            ));
        }
        for (operator, key, want) in wanted {
            let tested: Vec<&String> =
                condition[operator].as_object().into_iter().flatten().map(|(k, _)| k).collect();
            if tested != [key] {
                differences.push(format!("{name} {sid}: {operator} tests {tested:?}, want {key} alone"));
            }
            let have: BTreeSet<String> = strings(condition[operator].get(key)).into_iter().collect();
            let want: BTreeSet<String> = want.iter().map(|v| (*v).to_owned()).collect();
            for extra in have.difference(&want) {
                differences.push(format!("{name} {sid}: {key} allows `{extra}`, beyond {want:?}"));
            }
            for missing in want.difference(&have) {
                differences.push(format!("{name} {sid}: {key} lacks `{missing}`, which a key's use needs"));
            }
        }
    }
    differences
}

/// The keys' variables, and where each must come from: a Secrets Manager dynamic reference to
/// the named secret, or (the public key, no secret) an SSM Parameter Store one.
const KEY_VARIABLES: &[(&str, &str)] = &[
    ("JWT_SIGNING_KEY", "{{resolve:secretsmanager:${SigningKeySecret}:SecretString}}"),
    ("JWT_PUBLIC_KEY", "{{resolve:ssm:${PublicKeyParameter}}}"),
    ("OPERATOR_KEY", "{{resolve:secretsmanager:${OperatorKeySecret}:SecretString}}"),
    ("CURSOR_KEY", "{{resolve:secretsmanager:${CursorKeySecret}:SecretString}}"),
];

/// What SAM does with `Globals`: mappings merge (the resource's entries win), lists are the
/// global entries followed by the resource's, anything else the resource's replaces.
fn merge_globals(global: &Value, local: &Value) -> Value {
    match (global, local) {
        (Value::Object(global), Value::Object(local)) => {
            let mut merged = global.clone();
            for (key, value) in local {
                let value = match global.get(key) {
                    Some(inherited) => merge_globals(inherited, value),
                    None => value.clone(),
                };
                merged.insert(key.clone(), value);
            }
            Value::Object(merged)
        }
        (Value::Array(global), Value::Array(local)) => {
            Value::Array(global.iter().chain(local).cloned().collect())
        }
        (_, local) => local.clone(),
    }
}

/// A deployed function as the template declares it, its properties merged over `Globals`.
struct FunctionResource {
    logical_id: String,
    /// The resource's `Condition`, if it is deployed only under one.
    condition: Option<String>,
    properties: serde_json::Map<String, Value>,
}

impl FunctionResource {
    fn get(&self, key: &str) -> Option<&Value> {
        self.properties.get(key)
    }

    fn events(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.get("Events").and_then(Value::as_object).into_iter().flatten()
    }

    /// Every statement of the function's inline policies that allows something.
    fn statements(&self) -> Vec<&Value> {
        self.every_statement().into_iter().filter(|s| s["Effect"] != "Deny").collect()
    }

    /// Every statement of the function's inline policies that denies something.
    fn denials(&self) -> Vec<&Value> {
        self.every_statement().into_iter().filter(|s| s["Effect"] == "Deny").collect()
    }

    fn every_statement(&self) -> Vec<&Value> {
        let policies = self.get("Policies").and_then(Value::as_array).into_iter().flatten();
        policies.filter_map(|p| p.get("Statement").and_then(Value::as_array)).flatten().collect()
    }

    /// The actions the function is allowed, in any statement.
    fn actions(&self) -> BTreeSet<String> {
        self.statements().into_iter().flat_map(|s| strings(s.get("Action"))).collect()
    }
}

/// A string or a list of strings (IAM's `Action`, `Resource`), intrinsic functions left out.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Deployed functions by the crate their code comes from
/// (`CodeUri: ../target/lambda/<crate>/bootstrap.zip`), and the differences found on the way.
fn functions(template: &Value) -> (BTreeMap<String, FunctionResource>, Vec<String>) {
    let globals = template["Globals"]["Function"].as_object().cloned().unwrap_or_default();
    let resources = template["Resources"].as_object().expect("`Resources` is a mapping");
    let mut found = BTreeMap::new();
    let mut differences = Vec::new();
    for (logical_id, resource) in resources {
        if resource["Type"] != "AWS::Serverless::Function" && resource["Type"] != "AWS::Lambda::Function" {
            continue;
        }
        let mut properties = globals.clone();
        for (key, value) in resource["Properties"].as_object().into_iter().flatten() {
            let value = match globals.get(key) {
                Some(inherited) => merge_globals(inherited, value),
                None => value.clone(),
            };
            properties.insert(key.clone(), value);
        }
        let code = properties.get("CodeUri").and_then(Value::as_str).unwrap_or("").to_owned();
        let Some(name) =
            code.strip_prefix("../target/lambda/").and_then(|c| c.strip_suffix("/bootstrap.zip"))
        else {
            differences.push(format!(
                "{logical_id}: CodeUri is `{code}`, want ../target/lambda/<function>/bootstrap.zip"
            ));
            continue;
        };
        // A function with a role of its own has that role's inline policies.
        if let Some(role) = properties.get("Role").and_then(|r| r["Fn::GetAtt"][0].as_str()) {
            let policies = resources[role]["Properties"]["Policies"].as_array().cloned().unwrap_or_default();
            let documents = policies.iter().map(|p| p["PolicyDocument"].clone()).collect();
            properties.insert("Policies".into(), Value::Array(documents));
        }
        let condition = resource["Condition"].as_str().map(str::to_owned);
        let function = FunctionResource { logical_id: logical_id.clone(), condition, properties };
        if let Some(other) = found.insert(name.to_owned(), function) {
            differences.push(format!("{} and {logical_id} both deploy `{name}`", other.logical_id));
        }
    }
    (found, differences)
}

#[test]
fn the_http_api_routes_are_exactly_the_route_tables_non_dev_routes() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    // (METHOD, path) → the functions whose HttpApi events declare it.
    let mut declared: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (name, function) in &functions {
        for (event, spec) in function.events() {
            if spec["Type"] != "HttpApi" {
                continue;
            }
            let properties = &spec["Properties"];
            if properties["ApiId"]["Ref"] != "HttpApi" {
                differences.push(format!("{name}: event {event} is not on the HttpApi (ApiId: Ref HttpApi)"));
            }
            if let Some(version) = properties.get("PayloadFormatVersion")
                && version != "2.0"
            {
                differences
                    .push(format!("{name}: event {event} uses payload {version}, the functions read 2.0"));
            }
            let method = properties["Method"].as_str().unwrap_or("").to_uppercase();
            let path = properties["Path"].as_str().unwrap_or("").to_owned();
            declared.entry((method, path)).or_default().push(name.clone());
        }
    }
    for route in deployed_routes() {
        let key = (route.method.as_str().to_owned(), route.path.to_owned());
        let wanted = route.function.name();
        match declared.get(&key).map(Vec::as_slice) {
            None => differences.push(format!(
                "{} {} is in the route table ({wanted}) but not in the template",
                key.0, key.1
            )),
            Some([only]) if only == wanted => {}
            Some(names) => differences.push(format!(
                "{} {}: the template routes it to {}, the route table to {wanted}",
                key.0,
                key.1,
                names.join(" and ")
            )),
        }
    }
    let table: BTreeSet<(String, String)> =
        deployed_routes().map(|r| (r.method.as_str().to_owned(), r.path.to_owned())).collect();
    for ((method, path), names) in &declared {
        // `HEAD` is answered on every `GET` route (`Api::handle`); the template opens it where wanted.
        let served = if method == "HEAD" { "GET" } else { method.as_str() };
        if served != method && declared.get(&(served.to_owned(), path.clone())) != Some(names) {
            differences.push(format!("HEAD {path} goes to {}, not to its GET's function", names.join(", ")));
        }
        if !table.contains(&(served.to_owned(), path.clone())) {
            let dev = ROUTES.iter().any(|r| r.method.as_str() == method && r.path == path);
            let why = if dev { "a dev-only route, never deployed" } else { "not in the route table" };
            differences.push(format!("{method} {path} is in the template ({}) but {why}", names.join(", ")));
        }
    }
    assert_no_differences("infra/template.yaml's HttpApi routes against ROUTES", differences);
}

#[test]
fn every_function_crate_is_deployed_from_its_zip_and_nothing_else_is() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let crates = function_crates();
    let deployed: BTreeSet<String> = functions.keys().cloned().collect();
    for missing in crates.difference(&deployed) {
        differences.push(format!("functions/{missing} has no function in the template"));
    }
    for extra in deployed.difference(&crates) {
        differences.push(format!("the template deploys `{extra}`, which has no crate in functions/"));
    }
    let routed: BTreeSet<String> = deployed_routes().map(|r| r.function.name().to_owned()).collect();
    for name in routed.difference(&crates) {
        differences
            .push(format!("the route table names function `{name}`, which has no crate in functions/"));
    }
    for (name, function) in &functions {
        let id = &function.logical_id;
        for (key, want) in [("Runtime", "provided.al2023"), ("Handler", "bootstrap")] {
            if function.get(key).and_then(Value::as_str) != Some(want) {
                differences.push(format!("{name} ({id}): {key} is {:?}, want {want}", function.get(key)));
            }
        }
        if function.get("Architectures") != Some(&serde_json::json!([{"Ref": "Architecture"}])) {
            differences.push(format!("{name} ({id}): Architectures must be [Ref: Architecture]"));
        }
        // The marketplace's own API invokes the authorizer; an event here would be a way around
        // its route map.
        match (name == AUTHORIZER, function.events().next().is_some()) {
            (false, false) => differences.push(format!("{name} ({id}): no event ever invokes it")),
            (true, true) => differences.push(format!("{name} ({id}): an event of this stack invokes it")),
            _ => {}
        }
        let want = (name == AUTHORIZER).then_some(AUTHORIZER_CONDITION);
        if function.condition.as_deref() != want {
            differences.push(format!("{name} ({id}): Condition is {:?}, want {want:?}", function.condition));
        }
    }
    assert_no_differences("function crates against the template's functions", differences);
}

#[test]
fn functions_that_hash_passwords_get_1024_mb_and_the_others_256() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    // Functions that hash or verify a password (argon2id) get 1024 MB.
    let hashing = functions_serving(|r| r.effects.hashes_password);
    for (name, function) in &functions {
        let want = if hashing.contains(name) { HASHING_MEMORY_MB } else { DEFAULT_MEMORY_MB };
        let have = function.get("MemorySize").and_then(Value::as_u64);
        if have != Some(want) {
            differences.push(format!("{name}: MemorySize is {have:?}, want {want}"));
        }
    }
    assert_no_differences("memory sizes", differences);
}

#[test]
fn only_the_operator_routes_are_iam_authorized() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    if template["Resources"]["HttpApi"]["Properties"]["Auth"]["EnableIamAuthorizer"] != true {
        differences.push("HttpApi: Auth.EnableIamAuthorizer must be true".into());
    }
    if let Some(default) = template["Resources"]["HttpApi"]["Properties"]["Auth"].get("DefaultAuthorizer") {
        differences.push(format!("HttpApi: a DefaultAuthorizer ({default}) would guard the public routes"));
    }
    for (name, function) in &functions {
        for (event, spec) in function.events().filter(|(_, s)| s["Type"] == "HttpApi") {
            let path = spec["Properties"]["Path"].as_str().unwrap_or("");
            let authorizer = spec["Properties"]["Auth"]["Authorizer"].as_str();
            match (path.starts_with("/v1/operator/"), authorizer) {
                (true, Some("AWS_IAM")) | (false, None | Some("NONE")) => {}
                (true, other) => {
                    differences.push(format!("{name}.{event} ({path}): authorizer {other:?}, want AWS_IAM"))
                }
                (false, Some(other)) => differences.push(format!(
                    "{name}.{event} ({path}): authorizer {other}, want none (functions check bearer tokens)"
                )),
            }
        }
    }
    assert_no_differences("route authorization", differences);
}

#[test]
fn no_policy_allows_every_action_or_every_resource() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let mut statements: Vec<(String, &Value)> = functions
        .iter()
        .flat_map(|(name, f)| f.statements().into_iter().map(move |s| (name.clone(), s)))
        .collect();
    // Roles and policies declared outside the functions, if any.
    for (id, resource) in template["Resources"].as_object().expect("a mapping") {
        let properties = &resource["Properties"];
        let documents = [&properties["PolicyDocument"], &properties["AssumeRolePolicyDocument"]];
        let inline = properties["Policies"].as_array().into_iter().flatten().map(|p| &p["PolicyDocument"]);
        for document in documents.into_iter().chain(inline) {
            for statement in document["Statement"].as_array().into_iter().flatten() {
                statements.push((id.clone(), statement));
            }
        }
    }
    assert!(!statements.is_empty(), "no IAM statement found: is the template's shape still understood?");
    for (owner, statement) in statements {
        let sid = statement["Sid"].as_str().unwrap_or("(no Sid)");
        if statement.get("NotAction").is_some() || statement.get("NotResource").is_some() {
            differences.push(format!("{owner} {sid}: NotAction/NotResource allow everything else"));
        }
        for action in strings(statement.get("Action")) {
            if action == "*" || action.ends_with(":*") {
                differences.push(format!("{owner} {sid}: action `{action}`"));
            }
        }
        for resource in strings(statement.get("Resource")) {
            if resource == "*" {
                differences.push(format!("{owner} {sid}: resource `*`"));
            }
        }
    }
    assert_no_differences("IAM wildcards", differences);
}

#[test]
fn each_function_may_do_only_what_its_routes_need_on_the_table_and_in_ses() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    // Functions that send mail, and only those, may call `ses:SendEmail`.
    let mut mailing = functions_serving(|r| r.effects.mails);
    mailing.insert(MAIL_EVENTS.to_owned());
    // Functions that keep TOTP secrets, and only those, may use the key that seals them.
    let sealing = functions_serving(|r| r.effects.seals);
    for (name, function) in &functions {
        let routes: Vec<&Route> = deployed_routes().filter(|r| r.function.name() == name).collect();
        if name == PUBLISHER {
            continue;
        }
        let read_only = name == AUTHORIZER || (!routes.is_empty() && routes.iter().all(|r| reads_only(r)));
        // Where keys are used, a use's two writes, in their own statements and nowhere else.
        if judges_api_keys(name) {
            differences.extend(key_use_differences(name, function));
        }
        let actions = actions_besides_key_use(name, function);
        for action in &actions {
            let allowed = READ_ACTIONS.contains(&action.as_str())
                || (!read_only && WRITE_ACTIONS.contains(&action.as_str()))
                || (name == MAIL_EVENTS
                    && (action == "sqs:SendMessage" || STREAM_ACTIONS.contains(&action.as_str())))
                || (action == "ses:SendEmail" && mailing.contains(name))
                || (SEAL_ACTIONS.contains(&action.as_str()) && sealing.contains(name));
            if !allowed {
                let why = if read_only && WRITE_ACTIONS.contains(&action.as_str()) {
                    match (name == AUTHORIZER, judges_api_keys(name)) {
                        (true, _) => {
                            "it only reads, and writes a key's use in NoteKeyUse and CountKeyUse alone"
                        }
                        (false, true) => {
                            "its routes only read, and write a key's use in NoteKeyUse and CountKeyUse alone"
                        }
                        (false, false) => "its routes only read",
                    }
                } else if action == "ses:SendEmail" {
                    "none of its routes sends mail"
                } else if SEAL_ACTIONS.contains(&action.as_str()) {
                    "none of its routes keeps a secret"
                } else {
                    "not an action any function needs"
                };
                differences.push(format!("{name}: may {action}, but {why}"));
            }
        }
        if mailing.contains(name) && !function.actions().contains("ses:SendEmail") {
            differences.push(format!("{name}: sends mail but may not ses:SendEmail"));
        }
        if sealing.contains(name) {
            if SEAL_ACTIONS.iter().any(|a| !function.actions().contains(*a)) {
                differences.push(format!("{name}: keeps TOTP secrets but may not {SEAL_ACTIONS:?}"));
            }
            let variables = &function.get("Environment").cloned().unwrap_or_default()["Variables"];
            if variables["MFA_KMS_KEY_ID"] != serde_json::json!({"Fn::GetAtt": ["SecondFactorKey", "Arn"]}) {
                differences
                    .push(format!("{name}: keeps TOTP secrets but MFA_KMS_KEY_ID is not the key's ARN"));
            }
        }
        for statement in function.statements() {
            let sid = statement["Sid"].as_str().unwrap_or("(no Sid)");
            let actions = strings(statement.get("Action"));
            let resources = statement.get("Resource").map(Value::to_string).unwrap_or_default();
            if actions.iter().any(|a| a.starts_with("dynamodb:")) && !resources.contains("Table") {
                differences.push(format!("{name} {sid}: DynamoDB actions on something other than the table"));
            }
            if actions.iter().any(|a| a.starts_with("kms:")) && !resources.contains("SecondFactorKey") {
                differences.push(format!("{name} {sid}: KMS actions on another key than SecondFactorKey"));
            }
            if actions.iter().any(|a| a.starts_with("ses:")) && !resources.contains(":identity/") {
                differences.push(format!("{name} {sid}: ses:SendEmail must name the sender identity"));
            }
        }
    }
    assert_no_differences("per-function permissions", differences);
}

/// Keys, indexes and TTL must also be `infra/table.json`'s, which the DynamoDB store creates:
/// `table_definition.rs` checks that.
#[test]
fn the_second_factor_key_rotates_and_outlives_the_stack() {
    let template = template();
    let key = &template["Resources"]["SecondFactorKey"];
    assert_eq!(key["Type"], "AWS::KMS::Key");
    assert_eq!(key["Properties"]["EnableKeyRotation"], true, "{key}");
    assert_eq!((&key["DeletionPolicy"], &key["UpdateReplacePolicy"]), (&"Retain".into(), &"Retain".into()));
}

#[test]
fn the_table_keeps_its_data_and_expires_items_by_ttl() {
    let template = template();
    let mut differences = Vec::new();
    let tables: Vec<(&String, &Value)> = template["Resources"]
        .as_object()
        .expect("a mapping")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table")
        .collect();
    let [(id, table)] = tables.as_slice() else {
        panic!("want exactly one AWS::DynamoDB::Table, found {}", tables.len());
    };
    let properties = &table["Properties"];
    let expect = |differences: &mut Vec<String>, what: &str, have: &Value, want: Value| {
        if *have != want {
            differences.push(format!("{id}: {what} is {have}, want {want}"));
        }
    };
    expect(&mut differences, "BillingMode", &properties["BillingMode"], "PAY_PER_REQUEST".into());
    expect(
        &mut differences,
        "TimeToLiveSpecification",
        &properties["TimeToLiveSpecification"],
        serde_json::json!({"AttributeName": "expires_at", "Enabled": true}),
    );
    expect(
        &mut differences,
        "PointInTimeRecoverySpecification",
        &properties["PointInTimeRecoverySpecification"],
        serde_json::json!({"PointInTimeRecoveryEnabled": true}),
    );
    expect(
        &mut differences,
        "DeletionProtectionEnabled",
        &properties["DeletionProtectionEnabled"],
        true.into(),
    );
    expect(&mut differences, "DeletionPolicy", &table["DeletionPolicy"], "Retain".into());
    expect(&mut differences, "UpdateReplacePolicy", &table["UpdateReplacePolicy"], "Retain".into());
    expect(
        &mut differences,
        "KeySchema",
        &properties["KeySchema"],
        serde_json::json!([
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"}
        ]),
    );
    assert_no_differences("the table", differences);
}

#[test]
fn the_cleanup_runs_on_its_schedule_and_every_function_logs_with_retention() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let resources = &template["Resources"];
    let routed: BTreeSet<String> = deployed_routes().map(|r| r.function.name().to_owned()).collect();
    for (name, function) in &functions {
        let schedules: Vec<&Value> =
            function.events().map(|(_, s)| s).filter(|s| s["Type"] == "Schedule").collect();
        let timeout = function.get("Timeout").and_then(Value::as_u64);
        // API Gateway waits for the authorizer as for a route's function.
        if name == PUBLISHER || name == MAIL_EVENTS {
            // Their own tests say what feeds them.
        } else if routed.contains(name) || name == AUTHORIZER {
            if !schedules.is_empty() {
                differences.push(format!("{name}: an HTTP function on a schedule"));
            }
            // Each AWS call's budget is sized to this timeout (`shared::adapters::aws`), which sits
            // inside API Gateway's 29 s.
            let budgeted = shared::adapters::aws::FUNCTION_TIMEOUT.as_secs();
            if timeout != Some(budgeted) {
                differences.push(format!(
                    "{name}: Timeout {timeout:?}, want {budgeted} s: the calls' budgets are sized to it"
                ));
            }
        } else {
            match schedules.as_slice() {
                [schedule]
                    if schedule["Properties"]["Schedule"]
                        == serde_json::json!({"Ref": "CleanupSchedule"}) => {}
                _ => differences.push(format!("{name}: want one Schedule event at Ref CleanupSchedule")),
            }
            if timeout != Some(900) {
                differences.push(format!("{name}: Timeout is {timeout:?}, want 900 (it stops 30 s before)"));
            }
        }
        let group = function.get("LoggingConfig").and_then(|c| c["LogGroup"]["Ref"].as_str()).unwrap_or("");
        let log_group = &resources[group];
        if log_group["Type"] != "AWS::Logs::LogGroup" {
            differences.push(format!("{name}: LoggingConfig.LogGroup must Ref its own AWS::Logs::LogGroup"));
        } else if log_group["Properties"]["RetentionInDays"] != serde_json::json!({"Ref": "LogRetentionDays"})
        {
            differences.push(format!("{name}: log group {group} must keep logs for LogRetentionDays"));
        }
    }
    let parameters = &template["Parameters"];
    if parameters["CleanupSchedule"]["Default"] != "rate(1 hour)" {
        differences.push("parameter CleanupSchedule must default to rate(1 hour)".into());
    }
    if parameters["LogRetentionDays"]["Default"] != 30 {
        differences.push("parameter LogRetentionDays must default to 30".into());
    }
    assert_no_differences("schedule, timeouts and logs", differences);
}

#[test]
fn every_function_gets_the_configuration_lambda_requires() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let parameters = template["Parameters"].as_object().expect("`Parameters` is a mapping");
    for wanted in [
        "PublicBaseUrl",
        "FromAddress",
        "DefaultPreset",
        "Architecture",
        "SigningKeySecret",
        "PublicKeyParameter",
        "OperatorKeySecret",
        "CursorKeySecret",
        "AllowedOrigins",
        "LogRetentionDays",
        "CleanupSchedule",
        "RateLimits",
    ] {
        if !parameters.contains_key(wanted) {
            differences.push(format!("no parameter {wanted}"));
        }
    }
    // Unless the deployment resizes them, the limits are the code's defaults.
    if parameters.get("RateLimits").is_some_and(|p| p["Default"] != "") {
        differences.push("parameter RateLimits must default to empty: every limit its default".into());
    }
    let required = [
        ("PUBLIC_BASE_URL", "PublicBaseUrl"),
        ("DEFAULT_PRESET", "DefaultPreset"),
        ("MAIL_FROM", "FromAddress"),
        ("TABLE_NAME", "Table"),
        ("RATE_LIMITS", "RateLimits"),
    ];
    for (name, function) in &functions {
        let variables = function.get("Environment").map(|e| &e["Variables"]).cloned().unwrap_or_default();
        for (variable, source) in required {
            if !variables[variable].to_string().contains(source) {
                differences.push(format!("{name}: {variable} does not come from {source}"));
            }
        }
        for (variable, want) in [("STORE", "dynamodb"), ("MAILER", "ses")] {
            if variables[variable] != want {
                differences.push(format!("{name}: {variable} is {}, want {want}", variables[variable]));
            }
        }
    }
    let cors = &template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]["AllowOrigins"];
    if *cors != serde_json::json!({"Ref": "AllowedOrigins"}) {
        differences.push(format!("HttpApi: CORS origins are {cors}, want Ref AllowedOrigins"));
    }
    let outputs = &template["Outputs"];
    for output in ["ApiUrl", "TableName"] {
        if outputs[output]["Value"].is_null() {
            differences.push(format!("no output {output}"));
        }
    }
    assert_no_differences("configuration", differences);
}

#[test]
fn each_function_gets_exactly_the_keys_its_routes_use_and_globals_none() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    for (variable, _) in KEY_VARIABLES {
        if !globals[variable].is_null() {
            differences.push(format!("Globals: {variable} would reach every function"));
        }
    }
    for (name, function) in &functions {
        let wanted = declared_keys(name).variables();
        let variables = function.get("Environment").map(|e| &e["Variables"]).cloned().unwrap_or_default();
        for (variable, reference) in KEY_VARIABLES {
            let have = &variables[variable];
            match (wanted.contains(variable), have.is_null()) {
                (true, true) => differences.push(format!("{name}: needs {variable} but does not get it")),
                (false, false) => {
                    differences.push(format!("{name}: gets {variable}, which none of its routes uses"))
                }
                (true, false) if *have != serde_json::json!({"Fn::Sub": reference}) => {
                    differences.push(format!("{name}: {variable} is {have}, want Fn::Sub {reference}"))
                }
                _ => {}
            }
        }
    }
    assert_no_differences("the keys each function gets", differences);
}

#[test]
fn the_authorizer_may_only_read_the_items_of_a_decision_and_write_a_keys_use() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let Some(authorizer) = functions.get(AUTHORIZER) else {
        panic!("the template deploys no `{AUTHORIZER}`: every_function_crate_is_deployed… says why");
    };
    // UpdateItem in NoteKeyUse and CountKeyUse, each under its exact condition, and nowhere else.
    differences.extend(key_use_differences(AUTHORIZER, authorizer));
    let actions = actions_besides_key_use(AUTHORIZER, authorizer);
    let wanted: BTreeSet<String> = AUTHORIZER_READS.iter().map(|a| (*a).to_owned()).collect();
    for action in actions.difference(&wanted) {
        let why = if action.starts_with("ses:") {
            "it sends no mail"
        } else if action == "dynamodb:Query" {
            "it reads items by their keys, never an index or a partition"
        } else if action == "dynamodb:UpdateItem" {
            "it updates only a key's counter and last use, in NoteKeyUse and CountKeyUse under their conditions"
        } else {
            "it only reads the items of a decision and writes a key's use"
        };
        differences.push(format!("{AUTHORIZER}: may {action}, but {why}"));
    }
    for action in wanted.difference(&actions) {
        differences.push(format!("{AUTHORIZER}: may not {action}, which each decision needs"));
    }
    for statement in authorizer.statements() {
        let sid = statement["Sid"].as_str().unwrap_or("(no Sid)");
        if statement["Effect"] != "Allow" {
            differences.push(format!("{AUTHORIZER} {sid}: Effect {}, want Allow", statement["Effect"]));
        }
        if resources(statement) != table_only() {
            differences.push(format!(
                "{AUTHORIZER} {sid}: Resource is {}, want the table alone",
                resources(statement)
            ));
        }
    }
    assert_no_differences("the authorizer's permissions", differences);
}

/// Records each DynamoDB request a client would send (its operation and JSON body), and sends
/// none: each fails before it leaves.
#[derive(Clone, Debug, Default)]
struct Requests(Arc<Mutex<Vec<(String, Value)>>>);

impl Intercept for Requests {
    fn name(&self) -> &'static str {
        "Requests"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().map(serde_json::from_slice::<Value>).transpose()?;
        let mut requests = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        requests.push((operation_of(context), body.unwrap_or(Value::Null)));
        Err("recorded, never sent".into())
    }
}

/// The top-level attribute names an item request names, which IAM's `dynamodb:Attributes` holds:
/// its key's, its placeholders', and those written bare in its expressions (`attribute_exists(PK)`).
fn attributes_named(body: &Value) -> BTreeSet<String> {
    const WORDS: &[&str] = &[
        "SET",
        "ADD",
        "REMOVE",
        "DELETE",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "begins_with",
        "contains",
        "size",
        "if_not_exists",
        "list_append",
    ];
    let mut names: BTreeSet<String> =
        body["Key"].as_object().into_iter().flatten().map(|(n, _)| n.clone()).collect();
    let placeholders = body["ExpressionAttributeNames"].as_object().into_iter().flatten();
    names.extend(placeholders.filter_map(|(_, name)| name.as_str()).map(str::to_owned));
    for expression in ["UpdateExpression", "ConditionExpression"] {
        let text = body[expression].as_str().unwrap_or("");
        let words = text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '#' | ':' | '.')));
        for word in words {
            let placeholder = word.starts_with(['#', ':']) || word.starts_with(|c: char| c.is_ascii_digit());
            if word.is_empty() || placeholder || WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
                continue;
            }
            names.insert(word.split('.').next().unwrap_or(word).to_owned());
        }
    }
    names
}

/// IAM's `StringLike`: `*` matches any run of characters, `?` any one.
fn like(pattern: &str, value: &str) -> bool {
    match pattern.chars().next() {
        None => value.is_empty(),
        Some('*') => {
            let rest = &pattern[1..];
            value.char_indices().map(|(at, _)| at).chain([value.len()]).any(|at| like(rest, &value[at..]))
        }
        Some(first) => {
            value.chars().next().is_some_and(|c| first == '?' || c == first) && {
                let (p, v) = (first.len_utf8(), value.chars().next().map_or(0, char::len_utf8));
                like(&pattern[p..], &value[v..])
            }
        }
    }
}

/// The store's own requests for a key's use, recorded before they leave, against
/// `KEY_USE_WRITES` (which the template's statements must equal): each allowed by one statement,
/// and every attribute a statement lists named by some request. DynamoDB Local does not enforce
/// IAM; this is as close as a test here gets to AWS refusing a write.
#[tokio::test]
async fn a_keys_use_writes_exactly_what_the_key_use_statements_allow() {
    let requests = Requests::default();
    let config = aws_sdk_dynamodb::Config::builder()
        .http_client(shared::config::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("teamgate", "teamgate", None, None, "tests"))
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(RetryConfig::disabled())
        .interceptor(requests.clone())
        .build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), "teamgate");
    let now = chrono::Utc::now();
    // What `Teamgate::use_api_key` writes: the last use, and the counter of a hashed rate key.
    let noted = store.note_api_key_use(&AccountId::generate(), &ApiKeyId::generate(), now).await;
    let counted = store.hit_rate_limit(&"0".repeat(64), 600, 60, now).await;
    assert!(noted.is_err() && counted.is_err(), "the requests were to be recorded, not sent");
    let sent = requests.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    let mut differences = Vec::new();
    if sent.len() != 2 {
        differences.push(format!("want one request for the last use and one for the counter, got {sent:?}"));
    }
    let mut named_by: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (operation, body) in &sent {
        let partition = body["Key"]["PK"]["S"].as_str().unwrap_or("");
        let named = attributes_named(body);
        let returns = body["ReturnValues"].as_str().unwrap_or("NONE");
        let allowing = KEY_USE_WRITES.iter().find(|write| {
            operation == "UpdateItem"
                && write.leading_keys.iter().any(|pattern| like(pattern, partition))
                && named.iter().all(|name| write.attributes.contains(&name.as_str()))
                && KEY_USE_RETURN_VALUES.contains(&returns)
        });
        match allowing {
            Some(write) => named_by.entry(write.sid).or_default().extend(named),
            None => differences.push(format!(
                "{operation} of {partition} naming {named:?}, returning {returns}: no key-use statement allows it"
            )),
        }
    }
    for write in KEY_USE_WRITES {
        let named = named_by.get(write.sid).cloned().unwrap_or_default();
        for attribute in write.attributes.iter().filter(|a| !named.contains(**a)) {
            differences
                .push(format!("{}: allows `{attribute}`, which no write of a key's use names", write.sid));
        }
    }
    assert_no_differences("a key's use against NoteKeyUse and CountKeyUse", differences);
}

#[test]
fn the_authorizer_takes_its_route_map_and_bound_from_parameters_and_exports_its_arn() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let parameters = &template["Parameters"];
    let route_map = &parameters["AuthorizerRouteMapParameter"];
    if route_map["Type"] != "String" || route_map["Default"] != "" {
        differences.push("parameter AuthorizerRouteMapParameter: want a String, empty by default".into());
    }
    let staleness = &parameters["AuthorizerMaxStalenessSeconds"];
    let bounds = [
        ("Type", json!("Number")),
        ("Default", json!(DEFAULT_MAX_STALENESS_SECONDS)),
        ("MinValue", json!(0)),
        ("MaxValue", json!(MOST_STALENESS_SECONDS)),
    ];
    for (key, want) in bounds {
        if staleness[key] != want {
            differences.push(format!(
                "parameter AuthorizerMaxStalenessSeconds: {key} is {}, want {want}",
                staleness[key]
            ));
        }
    }
    let condition = json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "AuthorizerRouteMapParameter"}, ""]}]});
    if template["Conditions"][AUTHORIZER_CONDITION] != condition {
        differences.push(format!("condition {AUTHORIZER_CONDITION}: want {condition}"));
    }
    if let Some(authorizer) = functions.get(AUTHORIZER) {
        let variables = authorizer.get("Environment").map(|e| &e["Variables"]).cloned().unwrap_or_default();
        let wanted = [
            ("AUTHZ_ROUTE_MAP", json!({"Fn::Sub": "{{resolve:ssm:${AuthorizerRouteMapParameter}}}"})),
            ("AUTHZ_MAX_STALENESS_SECONDS", json!({"Ref": "AuthorizerMaxStalenessSeconds"})),
            // The map comes from the parameter alone: the authorizer refuses both at once.
            ("AUTHZ_ROUTE_MAP_FILE", Value::Null),
        ];
        for (variable, want) in wanted {
            if variables[variable] != want {
                differences.push(format!("{AUTHORIZER}: {variable} is {}, want {want}", variables[variable]));
            }
        }
        let group = authorizer.get("LoggingConfig").and_then(|c| c["LogGroup"]["Ref"].as_str()).unwrap_or("");
        if template["Resources"][group]["Condition"] != AUTHORIZER_CONDITION {
            differences
                .push(format!("log group {group}: want Condition {AUTHORIZER_CONDITION}, as its function"));
        }
    } else {
        differences.push(format!("the template deploys no `{AUTHORIZER}`"));
    }
    let output = &template["Outputs"]["AuthorizerArn"];
    let logical_id = functions.get(AUTHORIZER).map_or("AuthorizerFunction", |f| f.logical_id.as_str());
    for (key, want) in [
        ("Condition", json!(AUTHORIZER_CONDITION)),
        ("Value", json!({"Fn::GetAtt": [logical_id, "Arn"]})),
        ("Export", json!({"Name": {"Fn::Sub": "${AWS::StackName}-AuthorizerArn"}})),
    ] {
        if output[key] != want {
            differences.push(format!("output AuthorizerArn: {key} is {}, want {want}", output[key]));
        }
    }
    assert_no_differences("the authorizer's configuration and output", differences);
}

#[test]
fn the_example_api_asks_the_authorizer_on_every_route_uncached_and_its_map_knows_each_route() {
    let example = yaml(EXAMPLE_API);
    let mut differences = Vec::new();
    let resources = example["Resources"].as_object().expect("`Resources` is a mapping");
    let arn = json!({"Ref": "TeamgateAuthorizerArn"});
    if example["Parameters"]["TeamgateAuthorizerArn"].is_null() {
        differences.push("no parameter TeamgateAuthorizerArn".into());
    }
    let apis: Vec<(&String, &Value)> =
        resources.iter().filter(|(_, r)| r["Type"] == "AWS::Serverless::HttpApi").collect();
    if apis.is_empty() {
        differences.push("no AWS::Serverless::HttpApi".into());
    }
    for (id, api) in &apis {
        let auth = &api["Properties"]["Auth"];
        let default = auth["DefaultAuthorizer"].as_str().unwrap_or("");
        let authorizer = &auth["Authorizers"][default];
        if authorizer["FunctionArn"] != arn {
            differences.push(format!("{id}: DefaultAuthorizer `{default}` is not the TeamgateAuthorizerArn"));
        }
        for (key, want) in
            [("AuthorizerPayloadFormatVersion", json!("2.0")), ("EnableSimpleResponses", json!(true))]
        {
            if authorizer[key] != want {
                differences.push(format!("{id}.{default}: {key} is {}, want {want}", authorizer[key]));
            }
        }
        // API Gateway would reuse one answer for every route and account of the same token.
        if authorizer["Identity"]["ReauthorizeEvery"] != 0 {
            let have = &authorizer["Identity"]["ReauthorizeEvery"];
            differences
                .push(format!("{id}.{default}: Identity.ReauthorizeEvery is {have}, want 0 (no caching)"));
        }
        if authorizer["Identity"]["Headers"] != json!(["Authorization"]) {
            let have = &authorizer["Identity"]["Headers"];
            differences.push(format!("{id}.{default}: Identity.Headers is {have}, want [Authorization]"));
        }
        let invokes = resources.values().any(|r| {
            let p = &r["Properties"];
            r["Type"] == "AWS::Lambda::Permission"
                && p["FunctionName"] == arn
                && p["Principal"] == "apigateway.amazonaws.com"
                && p["Action"] == "lambda:InvokeFunction"
                && p["SourceArn"]["Fn::Sub"]
                    .as_str()
                    .is_some_and(|s| s.ends_with(&format!("${{{id}}}/authorizers/*")))
        });
        if !invokes {
            differences
                .push(format!("{id}: no AWS::Lambda::Permission lets its authorizers invoke the authorizer"));
        }
    }
    let text = workspace::read(EXAMPLE_ROUTE_MAP);
    // Lambda holds 4 KB of environment variables per function, the Globals' and the key's included.
    if text.len() > 3072 {
        differences
            .push(format!("{EXAMPLE_ROUTE_MAP} is {} bytes: AUTHZ_ROUTE_MAP would not fit", text.len()));
    }
    let presets = Presets::compiled();
    let map = RouteMap::parse(&text, EXAMPLE_ROUTE_MAP, &presets.catalog())
        .unwrap_or_else(|e| panic!("the authorizer would not start: {e}"));
    let mut routes = 0;
    for (id, function) in resources.iter().filter(|(_, r)| r["Type"] == "AWS::Serverless::Function") {
        for (event, spec) in function["Properties"]["Events"].as_object().into_iter().flatten() {
            if spec["Type"] != "HttpApi" {
                continue;
            }
            routes += 1;
            let properties = &spec["Properties"];
            let (method, path) =
                (properties["Method"].as_str().unwrap_or(""), properties["Path"].as_str().unwrap_or(""));
            if !properties["Auth"].is_null() {
                differences.push(format!(
                    "{id}.{event} ({method} {path}): Auth {}, want the default authorizer",
                    properties["Auth"]
                ));
            }
            match map.find(&method.to_uppercase(), path) {
                None => differences.push(format!(
                    "{id}.{event}: {EXAMPLE_ROUTE_MAP} has no route for {method} {path}: denied"
                )),
                Some(route) if route.account_segment.is_none() => {
                    differences.push(format!("{id}.{event}: {path}'s route names no account in its path"))
                }
                Some(_) => {}
            }
        }
    }
    if routes == 0 {
        differences.push(format!("{EXAMPLE_API} has no HttpApi route"));
    }
    assert_no_differences("the example API behind the authorizer", differences);
}

#[test]
fn the_publisher_is_fed_audit_items_from_the_stream_and_may_only_publish_them_and_park_failures() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let publisher = &functions[PUBLISHER];
    let table = &template["Resources"]["Table"]["Properties"];
    if table["StreamSpecification"]["StreamViewType"] != "KEYS_ONLY" {
        differences.push("the table's stream must carry keys only: no record travels on it".into());
    }

    // Its statements allow exactly its actions, each on the resource it concerns.
    let actions = publisher.actions();
    let wanted: BTreeSet<String> = PUBLISHER_ACTIONS.iter().map(|a| a.to_string()).collect();
    if actions != wanted {
        differences.push(format!("publisher: may {actions:?}, want {wanted:?}"));
    }
    for statement in publisher.statements() {
        let sid = statement["Sid"].as_str().unwrap_or("(no Sid)");
        let resource = statement["Resource"].to_string();
        for (prefix, names) in [
            ("dynamodb:", "Table"),
            ("events:", "event-bus/"),
            ("sqs:", "PublisherDeadLetterQueue"),
            ("logs:", "PublisherLogGroup"),
        ] {
            if strings(statement.get("Action")).iter().any(|a| a.starts_with(prefix))
                && !resource.contains(names)
            {
                differences.push(format!("publisher {sid}: {prefix} actions on {resource}, want {names}"));
            }
        }
    }

    // One event: the table's stream, filtered to new audit items, failures reported per item,
    // bisected, retried, and parked in the dead-letter queue.
    let events: Vec<&Value> = publisher.events().map(|(_, e)| e).collect();
    let [event] = events.as_slice() else {
        panic!("the publisher has one event, not {}", events.len());
    };
    let properties = &event["Properties"];
    let expected = [
        ("Type", &event["Type"], json!("DynamoDB")),
        ("Stream", &properties["Stream"], json!({"Fn::GetAtt": ["Table", "StreamArn"]})),
        ("StartingPosition", &properties["StartingPosition"], json!("TRIM_HORIZON")),
        ("ParallelizationFactor", &properties["ParallelizationFactor"], json!(1)),
        ("BisectBatchOnFunctionError", &properties["BisectBatchOnFunctionError"], json!(true)),
        ("FunctionResponseTypes", &properties["FunctionResponseTypes"], json!(["ReportBatchItemFailures"])),
        (
            "OnFailure",
            &properties["DestinationConfig"]["OnFailure"],
            json!({"Type": "SQS", "Destination": {"Fn::GetAtt": ["PublisherDeadLetterQueue", "Arn"]}}),
        ),
    ];
    for (name, have, want) in expected {
        if *have != want {
            differences.push(format!("publisher's stream event: {name} is {have}, want {want}"));
        }
    }
    // Retried as long as the stream keeps the record: nothing is given up before it must be.
    if (&properties["MaximumRetryAttempts"], &properties["MaximumRecordAgeInSeconds"])
        != (&json!(-1), &json!(86400))
    {
        differences.push("publisher's stream event: retry until the record is a day old".into());
    }
    let pattern: Value = properties["FilterCriteria"]["Filters"][0]["Pattern"]
        .as_str()
        .map(|p| serde_json::from_str(p).expect("the filter is JSON"))
        .unwrap_or_default();
    let wanted_pattern = json!({"eventName": ["INSERT"], "dynamodb": {"Keys": {
        "PK": {"S": [{"prefix": "ACCOUNT#"}]},
        "SK": {"S": [{"prefix": "EVENT#"}]},
    }}});
    if pattern != wanted_pattern {
        differences.push(format!("publisher's filter is {pattern}, want {wanted_pattern}"));
    }
    let bus = &publisher.get("Environment").map(|e| e["Variables"]["EVENT_BUS_NAME"].clone());
    if *bus != Some(json!({"Fn::If": ["HasEventBus", {"Ref": "EventBusName"}, {"Ref": "EventBus"}]})) {
        differences
            .push(format!("publisher: EVENT_BUS_NAME is {bus:?}, want EventBusName or the stack's bus"));
    }
    if template["Parameters"]["EventBusName"]["Default"] != "" {
        differences.push("parameter EventBusName must default to empty: the stack's own bus".into());
    }
    // On the stack's own bus, only the publisher may put events.
    let policy = &template["Resources"]["EventBusPolicy"];
    let statement = &policy["Properties"]["Statement"];
    let only_the_publisher =
        json!({"ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["PublisherRole", "Arn"]}}});
    if (
        policy["Condition"].as_str(),
        &statement["Effect"],
        &statement["Principal"],
        &statement["Action"],
        &statement["Condition"],
    ) != (
        Some("CreateEventBus"),
        &json!("Deny"),
        &json!("*"),
        &json!("events:PutEvents"),
        &only_the_publisher,
    ) {
        differences
            .push(format!("the stack's bus must refuse PutEvents from all but the publisher: {policy}"));
    }
    if publisher.get("Timeout").and_then(Value::as_u64).is_none_or(|t| t > 900) {
        differences.push("publisher: a Timeout within Lambda's 900 s".into());
    }
    assert_no_differences("the publisher", differences);
}

#[test]
fn the_example_webhook_delivers_teamgate_events_it_names_retrying_and_parking_the_rest() {
    let webhook = yaml("infra/examples/webhook.yaml");
    let resources = &webhook["Resources"];
    let rule = &resources["Rule"]["Properties"];
    let mut differences = Vec::new();
    if rule["EventPattern"]["source"] != json!(["teamgate"]) {
        differences
            .push(format!("the rule matches source {}, want teamgate", rule["EventPattern"]["source"]));
    }
    let named = webhook["Parameters"]["DetailTypes"]["Default"].as_str().unwrap_or_default();
    let catalogue: BTreeSet<&str> =
        shared::domain::AuditAction::ALL.iter().map(|a| a.detail_type()).collect();
    for name in named.split(',') {
        if !catalogue.contains(name) {
            differences.push(format!("DetailTypes names `{name}`, which no event is"));
        }
    }
    let target = &rule["Targets"][0];
    if target["Arn"] != json!({"Fn::GetAtt": ["Destination", "Arn"]}) {
        differences.push("the rule's target must be the API destination".into());
    }
    if target["DeadLetterConfig"]["Arn"] != json!({"Fn::GetAtt": ["UndeliveredQueue", "Arn"]}) {
        differences.push("what is not delivered must be parked in UndeliveredQueue".into());
    }
    if resources["Destination"]["Properties"]["InvocationEndpoint"] != json!({"Ref": "EndpointUrl"}) {
        differences.push("the destination must be EndpointUrl".into());
    }
    if webhook["Parameters"]["ApiKeyValue"]["NoEcho"] != true {
        differences.push("the endpoint's key must be NoEcho".into());
    }
    assert_no_differences("infra/examples/webhook.yaml", differences);
}

#[test]
fn only_mail_events_may_read_the_outbox_whose_mails_hold_live_links() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let wanted = json!({
        "Sid": "NeverReadTheOutbox",
        "Effect": "Deny",
        "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan"],
        "Resource": table_only(),
        "Condition": {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["MAIL#*"]}},
    });
    for (name, function) in &functions {
        let reads_table = function.actions().iter().any(|a| READ_ACTIONS.contains(&a.as_str()));
        // The publisher's reads are bounded to other partitions (its own test says which).
        if name == MAIL_EVENTS || name == PUBLISHER || !reads_table {
            continue;
        }
        if !function.denials().contains(&&wanted) {
            differences.push(format!("{name}: want the NeverReadTheOutbox statement {wanted}"));
        }
    }
    let mail_events = &functions[MAIL_EVENTS];
    let reads_outbox = mail_events.statements().into_iter().any(|s| {
        s["Condition"].to_string().contains("MAIL#*")
            && strings(s.get("Action")).iter().any(|a| READ_ACTIONS.contains(&a.as_str()))
    });
    if !reads_outbox {
        differences.push("mail-events must read the outbox".into());
    }
    assert_no_differences("who reads the outbox", differences);
}

#[test]
fn ses_reports_reach_mail_events_through_the_configuration_set_and_a_rule_on_the_default_bus() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    let function = &functions[MAIL_EVENTS];
    let rules: Vec<&Value> =
        function.events().map(|(_, e)| e).filter(|e| e["Type"] == "EventBridgeRule").collect();
    let wanted_pattern = json!({
        "source": ["aws.ses"],
        "account": [{"Ref": "AWS::AccountId"}],
        "detail-type": ["Email Delivered", "Email Bounced", "Email Complaint Received"],
        "detail": {"mail": {"tags": {"teamgate-invitation": [{"exists": true}]}}},
    });
    match rules.as_slice() {
        [event] => {
            if event["Properties"]["Pattern"] != wanted_pattern {
                differences.push(format!("mail-events' rule matches {}", event["Properties"]["Pattern"]));
            }
            // SES publishes only to the default bus: the rule must be on it.
            if !event["Properties"]["EventBusName"].is_null() {
                differences.push("mail-events' rule must be on the default bus".into());
            }
        }
        _ => differences.push("mail-events: want one EventBridgeRule event".into()),
    }
    let streams: Vec<&Value> =
        function.events().map(|(_, e)| e).filter(|e| e["Type"] == "DynamoDB").collect();
    let outbox = json!({"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "MAIL#"}]}}}});
    match streams.as_slice() {
        [stream] => {
            let properties = &stream["Properties"];
            let pattern = properties["FilterCriteria"]["Filters"][0]["Pattern"]
                .as_str()
                .map(serde_json::from_str::<Value>);
            if !matches!(pattern, Some(Ok(ref p)) if *p == outbox) {
                differences.push(format!("mail-events' stream filter is {pattern:?}, want {outbox}"));
            }
            if properties["DestinationConfig"]["OnFailure"]["Destination"]
                != json!({"Fn::GetAtt": ["MailEventsDeadLetterQueue", "Arn"]})
            {
                differences.push("mail-events: stream records given up must be parked".into());
            }
            if properties["FunctionResponseTypes"] != json!(["ReportBatchItemFailures"]) {
                differences.push("mail-events: a batch reports the record that failed".into());
            }
        }
        _ => differences.push("mail-events: want one DynamoDB stream event, for the outbox".into()),
    }
    if !function.events().any(|(_, e)| e["Type"] == "Schedule") {
        differences.push("mail-events: the outbox is swept on a schedule".into());
    }
    if function.get("DeadLetterQueue").map(|q| &q["TargetArn"])
        != Some(&json!({"Fn::GetAtt": ["MailEventsDeadLetterQueue", "Arn"]}))
    {
        differences.push("mail-events: failed reports must be parked in MailEventsDeadLetterQueue".into());
    }
    let destination = &template["Resources"]["MailEventsDestination"];
    if destination["Condition"] != "HasConfigurationSet" {
        differences.push("the SES event destination exists exactly when a configuration set is given".into());
    }
    let properties = &destination["Properties"];
    if properties["ConfigurationSetName"] != json!({"Ref": "SesConfigurationSet"}) {
        differences.push("the SES event destination must be on SesConfigurationSet".into());
    }
    let types = &properties["EventDestination"]["MatchingEventTypes"];
    if *types != json!(["DELIVERY", "BOUNCE", "COMPLAINT"]) {
        differences.push(format!("the SES event destination sends {types}"));
    }
    let bus = properties["EventDestination"]["EventBridgeDestination"]["EventBusArn"].to_string();
    if !bus.ends_with(":event-bus/default\"}") {
        differences.push(format!("SES must publish to the default bus, not {bus}"));
    }
    assert_no_differences("mail reports", differences);
}

/// The web function serves the pages, so it alone is told where they lead people on; empty
/// parameters leave the defaults (the console's sign-in, a plain pointer to the marketplace).
#[test]
fn the_web_function_learns_where_the_pages_lead_people_on() {
    let template = template();
    let (functions, mut differences) = functions(&template);
    for (parameter, variable) in [("SignInUrl", "SIGN_IN_URL"), ("SupportContact", "SUPPORT_CONTACT")] {
        if template["Parameters"][parameter]["Default"] != "" {
            differences.push(format!("parameter {parameter} must default to empty"));
        }
        for (name, function) in &functions {
            let given =
                function.get("Environment").map(|e| e["Variables"][variable].clone()).unwrap_or_default();
            match name.as_str() {
                "web" if given != serde_json::json!({"Ref": parameter}) => {
                    differences.push(format!("web: {variable} is {given}, want Ref {parameter}"))
                }
                "web" => {}
                _ if !given.is_null() => {
                    differences.push(format!("{name}: serves no page, yet gets {variable}"))
                }
                _ => {}
            }
        }
    }
    assert_no_differences("the pages' guidance in infra/template.yaml", differences);
}
