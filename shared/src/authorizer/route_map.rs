//! The marketplace's route map: which Teamgate permissions each route of its own API needs, and
//! where a request names the seller account. Written as TOML (README, "Protect your own API"):
//!
//! ```toml
//! [account]
//! path_parameter = "account_id"   # the default
//! header = "X-Teamgate-Account"    # the default
//!
//! [routes]
//! "GET /sellers/{account_id}/orders" = "orders:read"
//! "POST /sellers/{account_id}/orders" = ["orders:write"]
//! "* /sellers/{account_id}/reports/**" = ["finance:read", "analytics:read"]
//! "GET /sellers/{account_id}/profile" = []
//! ```
//!
//! A route is `METHOD /path`, matched against the route API Gateway matched (HTTP API's route
//! key, REST's method and resource), the request's own method standing in for `ANY`. The method
//! `*` matches every method; a path segment `*` or `{name}` matches any one segment, a last
//! segment `**` any rest of the path, none included. When several routes match, the most
//! specific wins: more literal segments, then a named method, then more segments. A route needs
//! every permission it lists; `[]` lets in any active member. A request no route matches is
//! denied. Every problem is found at start-up and named by its line.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use toml::Spanned;

use crate::domain::{Permission, PermissionSet};

/// One route's permissions, as written: one permission or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum Needs {
    One(String),
    All(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountSource {
    #[serde(default = "default_path_parameter")]
    path_parameter: String,
    #[serde(default = "default_header")]
    header: String,
}

fn default_path_parameter() -> String {
    "account_id".into()
}

fn default_header() -> String {
    "X-Teamgate-Account".into()
}

impl Default for AccountSource {
    fn default() -> Self {
        Self { path_parameter: default_path_parameter(), header: default_header() }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    account: AccountSource,
    routes: BTreeMap<Spanned<String>, Spanned<Needs>>,
}

/// A route map that failed its start-up check, naming where.
#[derive(Debug, thiserror::Error)]
#[error("the route map {source_name}: {reason}")]
pub struct RouteMapError {
    /// Where the map came from (`AUTHZ_ROUTE_MAP_FILE=…` or `AUTHZ_ROUTE_MAP`).
    pub source_name: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `*` or `{name}`: any one segment.
    Any,
    /// `**`, last: any rest.
    Rest,
}

/// One route of the map.
#[derive(Clone, Debug)]
pub struct MappedRoute {
    /// As written, for the decision's log line.
    pub pattern: String,
    /// `None` for `*`.
    method: Option<String>,
    segments: Vec<Segment>,
    pub needs: Vec<Permission>,
}

impl MappedRoute {
    fn matches(&self, method: &str, path: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(method)) {
            return false;
        }
        let path = path.trim_start_matches('/');
        let mut given = path.split('/').filter(|_| !path.is_empty());
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::Any => {
                    if given.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
                Segment::Literal(literal) => {
                    if given.next() != Some(literal.as_str()) {
                        return false;
                    }
                }
            }
        }
        given.next().is_none()
    }

    /// Higher is more specific: literal segments, then a named method, then length.
    fn specificity(&self) -> (usize, bool, usize) {
        let literals = self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        let length = self.segments.iter().filter(|s| **s != Segment::Rest).count();
        (literals, self.method.is_some(), length)
    }

    /// The route with its wildcards spelled one way, to find two routes that are the same.
    fn shape(&self) -> String {
        let segments: Vec<&str> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.as_str(),
                Segment::Any => "*",
                Segment::Rest => "**",
            })
            .collect();
        format!("{} /{}", self.method.as_deref().unwrap_or("*"), segments.join("/"))
    }
}

/// The checked route map.
#[derive(Clone, Debug)]
pub struct RouteMap {
    /// Most specific first.
    routes: Vec<MappedRoute>,
    pub account_path_parameter: String,
    pub account_header: String,
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl RouteMap {
    /// Parses and checks `text`; `catalog` is every permission some preset defines, so that a
    /// permission nobody can hold (a typo) stops the start rather than denying every request.
    pub fn parse(text: &str, source_name: &str, catalog: &PermissionSet) -> Result<Self, RouteMapError> {
        let fail = |reason: String| RouteMapError { source_name: source_name.to_owned(), reason };
        let file: File = toml::from_str(text).map_err(|e| fail(e.to_string().trim_end().to_owned()))?;
        let line =
            |span: std::ops::Range<usize>| text[..span.start.min(text.len())].matches('\n').count() + 1;
        let mut routes = Vec::new();
        let mut shapes: BTreeMap<String, usize> = BTreeMap::new();
        let mut written: Vec<_> = file.routes.iter().collect();
        written.sort_by_key(|(key, _)| key.span().start);
        for (key, needs) in written {
            let at = line(key.span());
            let at_line = |reason: String| fail(format!("line {at}: {reason}"));
            let route = parse_route(key.get_ref(), needs.get_ref(), catalog).map_err(at_line)?;
            if let Some(first) = shapes.insert(route.shape(), at) {
                return Err(at_line(format!(
                    "`{}` matches exactly what line {first} matches; keep one",
                    route.pattern
                )));
            }
            routes.push(route);
        }
        if routes.is_empty() {
            return Err(fail("[routes] names no route; every request would be denied".into()));
        }
        let header = file.account.header.trim().to_owned();
        if header.is_empty() || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(fail(format!("[account] header `{header}` is not a header name")));
        }
        routes.sort_by(|a, b| b.specificity().cmp(&a.specificity()).then_with(|| a.pattern.cmp(&b.pattern)));
        Ok(Self {
            routes,
            account_path_parameter: file.account.path_parameter,
            account_header: header.to_ascii_lowercase(),
        })
    }

    /// How many routes the map has.
    pub fn route_count(&self) -> usize {
        self.routes.len()
    }

    /// The most specific route matching a request's method and the route API Gateway matched.
    pub fn find(&self, method: &str, route_path: &str) -> Option<&MappedRoute> {
        self.routes.iter().find(|r| r.matches(method, route_path))
    }
}

fn parse_route(key: &str, needs: &Needs, catalog: &PermissionSet) -> Result<MappedRoute, String> {
    let (method, path) = key.split_once(' ').ok_or_else(|| {
        format!("`{key}` is not `METHOD /path` (e.g. \"GET /sellers/{{account_id}}/orders\")")
    })?;
    let method = match method {
        "*" | "ANY" => None,
        m if METHODS.contains(&m) => Some(m.to_owned()),
        m => return Err(format!("`{m}` is not a method: use one of {}, or *", METHODS.join(", "))),
    };
    let path = path.trim();
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("the path `{path}` does not start with /"));
    };
    let raw: Vec<&str> = if rest.is_empty() { Vec::new() } else { rest.split('/').collect() };
    let mut segments = Vec::new();
    for (i, segment) in raw.iter().enumerate() {
        segments.push(match *segment {
            "**" if i + 1 == raw.len() => Segment::Rest,
            "**" => return Err(format!("`{path}`: ** may only end a path")),
            "*" => Segment::Any,
            s if s.starts_with('{') && s.ends_with('}') && s.len() > 2 => Segment::Any,
            "" => return Err(format!("`{path}` has an empty segment")),
            s if s.contains(['*', '{', '}', ' ']) => {
                return Err(format!("`{s}` in `{path}`: wildcards are whole segments (*, ** or {{name}})"));
            }
            s => Segment::Literal(s.to_owned()),
        });
    }
    let written = match needs {
        Needs::One(permission) => vec![permission.clone()],
        Needs::All(permissions) => permissions.clone(),
    };
    let mut permissions = Vec::new();
    for raw in &written {
        let permission = Permission::parse(raw).map_err(|e| e.to_string())?;
        if !catalog.allows(&permission) {
            let sections: BTreeSet<String> = catalog.iter().map(|p| p.section.into_owned()).collect();
            return Err(format!(
                "`{raw}`: no preset has the section `{}` (sections: {})",
                permission.section,
                sections.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        permissions.push(permission);
    }
    Ok(MappedRoute { pattern: key.to_owned(), method, segments, needs: permissions })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> PermissionSet {
        ["orders", "finance", "analytics", "users"].into_iter().map(Permission::write).collect()
    }

    fn map(text: &str) -> Result<RouteMap, String> {
        RouteMap::parse(text, "test.toml", &catalog()).map_err(|e| e.to_string())
    }

    const EXAMPLE: &str = r#"
[routes]
"GET /sellers/{account_id}/orders" = "orders:read"
"POST /sellers/{account_id}/orders" = ["orders:write"]
"* /sellers/{account_id}/reports/**" = ["finance:read", "analytics:read"]
"GET /sellers/{account_id}/reports/daily" = "analytics:read"
"GET /sellers/{account_id}/profile" = []
"#;

    fn needs(map: &RouteMap, method: &str, path: &str) -> Option<Vec<String>> {
        map.find(method, path).map(|r| r.needs.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_route_needs_what_it_lists_and_the_most_specific_route_wins() {
        let map = map(EXAMPLE).unwrap();
        assert_eq!(needs(&map, "GET", "/sellers/{account_id}/orders").unwrap(), ["orders:read"]);
        assert_eq!(needs(&map, "POST", "/sellers/{account_id}/orders").unwrap(), ["orders:write"]);
        assert_eq!(needs(&map, "GET", "/sellers/{account_id}/reports/daily").unwrap(), ["analytics:read"]);
        assert_eq!(
            needs(&map, "DELETE", "/sellers/{id}/reports/monthly/2026").unwrap(),
            ["finance:read", "analytics:read"]
        );
        assert_eq!(
            needs(&map, "GET", "/sellers/{account_id}/reports").unwrap(),
            ["finance:read", "analytics:read"]
        );
        assert_eq!(needs(&map, "GET", "/sellers/{account_id}/profile").unwrap(), Vec::<String>::new());
        // A concrete path matches `{name}` as any one segment does.
        assert_eq!(needs(&map, "GET", "/sellers/7f3a/orders").unwrap(), ["orders:read"]);
        assert_eq!(map.account_path_parameter, "account_id");
        assert_eq!(map.account_header, "x-teamgate-account");
    }

    #[test]
    fn a_request_no_route_matches_finds_nothing() {
        let map = map(EXAMPLE).unwrap();
        for (method, path) in [
            ("DELETE", "/sellers/{account_id}/orders"),
            ("GET", "/sellers/{account_id}/orders/17"),
            ("GET", "/sellers//orders"),
            ("GET", "/buyers/{account_id}/orders"),
            ("GET", "/"),
        ] {
            assert!(map.find(method, path).is_none(), "{method} {path}");
        }
    }

    #[test]
    fn each_mistake_stops_the_start_naming_its_line() {
        for (text, wanted) in [
            (
                "[routes]\n\"GET /a\" = \"oders:read\"\n",
                "line 2: `oders:read`: no preset has the section `oders`",
            ),
            (
                "[routes]\n\"GET /a\" = \"orders:read\"\n\"FETCH /b\" = []\n",
                "line 3: `FETCH` is not a method",
            ),
            ("[routes]\n\"GET a\" = []\n", "line 2: the path `a` does not start with /"),
            ("[routes]\n\"GET /a/**/b\" = []\n", "line 2: `/a/**/b`: ** may only end a path"),
            ("[routes]\n\"GET /a*\" = []\n", "line 2: `a*` in `/a*`: wildcards are whole segments"),
            ("[routes]\n\"GET /a\" = \"orders\"\n", "line 2: `orders` is not a permission"),
            ("[routes]\n\"/a\" = []\n", "line 2: `/a` is not `METHOD /path`"),
            ("[routes]\n\"GET /s/{id}\" = []\n\"GET /s/*\" = []\n", "matches exactly what line"),
            ("[routes]\n", "names no route"),
            ("[route]\n\"GET /a\" = []\n", "unknown field `route`"),
            ("[account]\nheader = \"X Account\"\n[routes]\n\"GET /a\" = []\n", "is not a header name"),
            ("[routes]\n\"GET /a\" = 3\n", "line 2"),
        ] {
            let error = map(text).expect_err(text);
            assert!(error.contains(wanted), "{text:?}: {error}");
            assert!(error.starts_with("the route map test.toml: "), "{error}");
        }
    }
}
