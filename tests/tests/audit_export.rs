//! The audit log as a file (README, "Audit log"): `GET …/audit-events/export` gives the list's
//! events, with the list's filters, as CSV or NDJSON, a page a response, the next page named by
//! the `Link` header; a spreadsheet opens the CSV with no cell taken for a formula.

use serde_json::{Value, json};
use tests::app::{Owner, TestApp};

/// A downloaded page: its headers and its text.
struct Download {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Download {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().expect("an ASCII header"))
    }

    /// The `Link` header's next page, as a path with its query.
    fn next(&self, path: &str) -> Option<String> {
        let link = self.headers.get("link")?.to_str().expect("an ASCII header");
        let query = link.strip_prefix("<?")?.strip_suffix(">; rel=\"next\"").expect("a next link");
        Some(format!("{}?{query}", path.split('?').next().expect("a path")))
    }

    /// The CSV's rows under its header row, read as a spreadsheet program's importer reads them.
    fn rows(&self) -> Vec<Vec<String>> {
        let text = self.text.strip_prefix('\u{feff}').expect("a byte-order mark first");
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
        assert_eq!(header, ["at", "action", "actor_id", "target_type", "target_id", "id", "details"]);
        reader.records().map(|r| r.expect("a well-formed row").iter().map(str::to_owned).collect()).collect()
    }

    /// The NDJSON's events, one a line.
    fn events(&self) -> Vec<Value> {
        self.text.lines().map(|line| serde_json::from_str(line).expect("a JSON event a line")).collect()
    }
}

async fn download(app: &TestApp, token: &str, path: &str) -> Download {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    Download { status, headers, text: response.text().await.expect("a text body") }
}

/// Every page from `path` on, following `Link` until there is none.
async fn every_page(app: &TestApp, token: &str, path: &str) -> Vec<Download> {
    let mut pages = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next {
        let page = download(app, token, &path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        next = page.next(&path);
        pages.push(page);
        assert!(pages.len() < 50, "the export does not end");
    }
    pages
}

/// The events the list shows the owner for `filters`, newest first.
async fn listed(app: &TestApp, owner: &Owner, filters: &str) -> Vec<Value> {
    let list =
        app.get_as(&owner.token, &format!("{}/audit-events?limit=100&{filters}", owner.account_path())).await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.body["items"].as_array().expect("items").clone()
}

/// An owner whose log holds the account's creation, the owner's link and its use, and four
/// invitations, a minute apart.
async fn owner_with_history(app: &TestApp, name: &str) -> Owner {
    let owner = app.owner("standard", &format!("owner@{name}.example")).await;
    for person in ["anna", "bohdan", "chen", "dara"] {
        app.advance_clock(60).await;
        app.invite(&owner, &format!("{person}@{name}.example"), &["viewer"]).await;
    }
    owner
}

fn ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["id"].as_str().expect("an id").to_owned()).collect()
}

async fn an_export_gives_every_event_once_a_page_at_a_time(app: TestApp) {
    // Given an account with seven events in its log
    let owner = owner_with_history(&app, "export-pages").await;
    let everything = listed(&app, &owner, "").await;
    assert_eq!(everything.len(), 7);

    // When the owner exports it two events a file, following each `Link`
    let first = format!("{}/audit-events/export?limit=2", owner.account_path());
    let pages = every_page(&app, &owner.token, &first).await;

    // Then four CSV files come, each a download with its header row, the last with no `Link`
    assert_eq!(pages.iter().map(|p| p.rows().len()).collect::<Vec<_>>(), [2, 2, 2, 1]);
    for page in &pages {
        assert_eq!(page.header("content-type"), "text/csv; charset=utf-8");
        assert_eq!(page.header("content-disposition"), "attachment; filename=\"audit-events.csv\"");
        assert!(page.text.ends_with("\r\n"), "lines end with CRLF");
    }
    assert_eq!(pages[3].header("link"), "");

    // And together they hold the list's events, newest first, each once, cell for cell
    let rows: Vec<Vec<String>> = pages.iter().flat_map(Download::rows).collect();
    let row_ids: Vec<String> = rows.iter().map(|r| r[5].clone()).collect();
    assert_eq!(row_ids, ids(&everything));
    for (row, event) in rows.iter().zip(&everything) {
        assert_eq!(row[1], event["action"].as_str().unwrap());
        assert_eq!(row[2], event["actor_id"].as_str().unwrap_or(""));
        assert_eq!(row[4], event["target_id"].as_str().unwrap());
        let at = chrono::DateTime::parse_from_rfc3339(&row[0]).expect("an RFC 3339 instant");
        assert_eq!(at, chrono::DateTime::parse_from_rfc3339(event["at"].as_str().unwrap()).unwrap());
        assert_eq!(serde_json::from_str::<Value>(&row[6]).expect("details as JSON"), event["details"]);
    }
}

async fn an_export_takes_the_lists_filters_in_either_format(app: TestApp) {
    // Given an account with seven events a minute apart, the owner's and the operator's
    let owner = owner_with_history(&app, "export-filters").await;
    let everything = listed(&app, &owner, "").await;
    let owner_id = app.user_id(&owner.token).await;
    let at = |event: &Value| chrono::DateTime::parse_from_rfc3339(event["at"].as_str().unwrap()).unwrap();
    let (second, newest) = (at(&everything[1]), at(&everything[0]));
    let target = everything[2]["target_id"].as_str().unwrap().to_owned();
    let instant = |at: chrono::DateTime<chrono::FixedOffset>| at.to_rfc3339().replace('+', "%2B");
    type Kept<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let filters: Vec<(String, Kept)> = vec![
        ("action=invitation.created".into(), Box::new(|e| e["action"] == "invitation.created")),
        // (an id in capitals is the same id)
        (format!("actor_id={}", owner_id.to_uppercase()), Box::new(|e| e["actor_id"] == owner_id.as_str())),
        (format!("target_id={target}"), Box::new(|e| e["target_id"] == target.as_str())),
        (format!("from={}", instant(second)), Box::new(|e| at(e) >= second)),
        (
            format!("from={}&to={}", instant(second), instant(newest)),
            Box::new(|e| at(e) >= second && at(e) < newest),
        ),
    ];

    for (filters, kept) in filters {
        // When the export is narrowed by action, by actor, by target or by a window of time
        let path = format!("{}/audit-events/export?format=ndjson&limit=1&{filters}", owner.account_path());
        let pages = every_page(&app, &owner.token, &path).await;

        // Then each NDJSON line is one of the matching events as the list shows it, and the list
        // given the same filters agrees
        let expected: Vec<Value> = everything.iter().filter(|e| kept(e)).cloned().collect();
        assert!(!expected.is_empty() && expected.len() < everything.len(), "{filters} narrows");
        let exported: Vec<Value> = pages.iter().flat_map(Download::events).collect();
        assert_eq!(exported, expected, "{filters}");
        assert_eq!(listed(&app, &owner, &filters).await, expected, "the list with {filters}");
        for page in &pages {
            assert_eq!(page.header("content-type"), "application/x-ndjson");
            assert_eq!(page.header("content-disposition"), "attachment; filename=\"audit-events.ndjson\"");
        }
    }
}

async fn a_cell_that_would_start_a_formula_opens_as_text(app: TestApp) {
    // Given an invitation whose address begins as a spreadsheet formula would
    let owner = app.owner("standard", "owner@export-formula.example").await;
    let hostile = "=1+2@export-formula.example";
    let invited = app
        .post_as(
            &owner.token,
            &format!("{}/invitations", owner.account_path()),
            json!({"email": hostile, "roles": ["viewer"]}),
        )
        .await;

    // When the owner exports the log
    let export = download(&app, &owner.token, &format!("{}/audit-events/export", owner.account_path())).await;
    assert_eq!(export.status, 200, "{}", export.text);

    // Then whatever the address did, no cell a spreadsheet reads starts a formula
    let rows = export.rows();
    assert_eq!(invited.status, 201, "{}", invited.body);
    assert!(rows.iter().any(|row| row[6].contains("=***@export-formula.example")), "{rows:?}");
    for cell in rows.iter().flatten() {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a formula cell: {cell}");
    }
}

async fn bad_export_parameters_are_field_errors_and_an_empty_window_is_empty(app: TestApp) {
    // Given an owner whose log has more than one page
    let owner = owner_with_history(&app, "export-refusals").await;
    let export = format!("{}/audit-events/export", owner.account_path());

    // When the parameters are each wrong, then each is named with its field
    let wrong = app
        .get_as(
            &owner.token,
            &format!("{export}?format=xlsx&from=yesterday&action=wizardry&actor_id=me&limit=1001"),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (400, "validation_failed"), "{}", wrong.body);
    let mut fields = wrong.field_errors();
    fields.sort();
    let invalid = |field: &str| (field.to_owned(), "invalid_value".to_owned());
    assert_eq!(fields, ["action", "actor_id", "format", "from", "limit"].map(invalid));
    assert_eq!(wrong.headers["content-type"], "application/problem+json");

    // And a window that ends before it starts holds nothing, in the list as in the export
    let window = "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z";
    let backwards = download(&app, &owner.token, &format!("{export}?format=ndjson&{window}")).await;
    assert_eq!((backwards.status, backwards.text.as_str()), (200, ""));
    let listed = app.get_as(&owner.token, &format!("{}/audit-events?{window}", owner.account_path())).await;
    assert_eq!(listed.body["items"], json!([]), "{}", listed.body);

    // And a next page's cursor does not carry over to other filters
    let first = download(&app, &owner.token, &format!("{export}?limit=1")).await;
    let next = first.next(&format!("{export}?limit=1")).expect("a second page");
    let elsewhere = app.get_as(&owner.token, &format!("{next}&action=invitation.created")).await;
    assert_eq!((elsewhere.status, elsewhere.code()), (400, "invalid_cursor"), "{}", elsewhere.body);
}

async fn only_those_who_read_users_export_the_log(app: TestApp) {
    // Given a member who may work on orders but not read the team, and another account's owner
    let owner = app.owner("standard", "owner@export-access.example").await;
    let clerk = app.member(&owner, "clerk@export-access.example", &[], &["orders:read"]).await;
    let stranger = app.owner("standard", "owner@export-stranger.example").await;
    let export = format!("{}/audit-events/export", owner.account_path());

    // When each asks for the owner's log, then the member is forbidden and the stranger finds nothing
    let member = app.get_as(&clerk, &export).await;
    assert_eq!((member.status, member.code()), (403, "forbidden"), "{}", member.body);
    let other = app.get_as(&stranger.token, &export).await;
    assert_eq!((other.status, other.code()), (404, "not_found"), "{}", other.body);
}

tests::scenarios!(
    an_export_gives_every_event_once_a_page_at_a_time,
    an_export_takes_the_lists_filters_in_either_format,
    a_cell_that_would_start_a_formula_opens_as_text,
    bad_export_parameters_are_field_errors_and_an_empty_window_is_empty,
    only_those_who_read_users_export_the_log,
);
