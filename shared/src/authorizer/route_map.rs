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
//! key, REST's method and resource; a catch-all `$default` route's request path), the request's
//! own method standing in for `ANY`. The method `*` matches every method, and `GET` also `HEAD`.
//! A path segment `*` or `{name}` matches any one segment, a last `**` (or `{name+}`) any rest of
//! the path, none included; only these match a greedy `{proxy+}`. When several routes match, the
//! one with a literal segment furthest left wins (a literal over a one-segment wildcard over the
//! rest), then a named method over `*`. A route needs every permission it lists; `[]` lets in
//! any active member. A request no route matches is denied.
//!
//! A route whose path has the segment `{account_id}` (the `[account]` path parameter) takes the
//! seller account from that segment of the request, whatever API Gateway calls it; any other
//! route takes it from the header. Every problem is found at start-up and named by its line.

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

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountSource {
    /// Default `account_id`; set, some route must name it.
    path_parameter: Option<String>,
    /// Default `X-Teamgate-Account`.
    header: Option<String>,
}

/// Headers that carry something else: naming the account in one is a mistake.
const RESERVED_HEADERS: [&str; 5] = ["authorization", "host", "cookie", "content-type", "content-length"];

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
    /// `*` or `{name}` (the name kept): any one segment.
    Any(Option<String>),
    /// `**` or `{name+}`, last: any rest.
    Rest,
}

impl Segment {
    /// Where a route's segments rank against another's at the same place: a literal over a
    /// one-segment wildcard over the path's end over the rest.
    fn rank(&self) -> u8 {
        match self {
            Self::Literal(_) => 3,
            Self::Any(_) => 2,
            Self::Rest => 0,
        }
    }
}

/// The rank of a path that ends where another goes on.
const END_RANK: u8 = 1;

/// One route of the map.
#[derive(Clone, Debug)]
pub struct MappedRoute {
    /// As written, for the decision's log line.
    pub pattern: String,
    /// `None` for `*`.
    method: Option<String>,
    segments: Vec<Segment>,
    pub needs: Vec<Permission>,
    /// Which segment names the seller account (`{account_id}`), if one does.
    pub account_segment: Option<usize>,
}

impl MappedRoute {
    fn matches(&self, method: &str, path: &str) -> bool {
        let method_matches = match self.method.as_deref() {
            None => true,
            Some("GET") => method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD"),
            Some(m) => m.eq_ignore_ascii_case(method),
        };
        if !method_matches {
            return false;
        }
        let path = path.trim_start_matches('/');
        let mut given = path.split('/').filter(|_| !path.is_empty());
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::Any(_) => {
                    // A greedy template segment (`{proxy+}`) stands for any rest, not one segment.
                    if given.next().is_none_or(|g| g.is_empty() || g.ends_with("+}")) {
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

    /// Higher is more specific: compared place by place from the left, then a named method.
    fn specificity(&self) -> (Vec<u8>, bool) {
        let mut ranks: Vec<u8> = self.segments.iter().map(Segment::rank).collect();
        if self.segments.last() != Some(&Segment::Rest) {
            ranks.push(END_RANK);
        }
        (ranks, self.method.is_some())
    }

    /// The route with its wildcards spelled one way, to find two routes that are the same.
    fn shape(&self) -> String {
        let segments: Vec<&str> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.as_str(),
                Segment::Any(_) => "*",
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
    /// Lower-case.
    pub account_header: String,
}

/// `HEAD` is not among them: a `GET` route covers it, as servers answer `HEAD` with `GET`'s handler.
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl RouteMap {
    /// Parses and checks `text`; `catalog` is every permission some preset defines, so that a
    /// permission nobody can hold (a typo) stops the start rather than denying every request.
    pub fn parse(text: &str, source_name: &str, catalog: &PermissionSet) -> Result<Self, RouteMapError> {
        let fail = |reason: String| RouteMapError { source_name: source_name.to_owned(), reason };
        let file: File = toml::from_str(text).map_err(|e| fail(e.to_string().trim_end().to_owned()))?;
        let line =
            |span: std::ops::Range<usize>| text[..span.start.min(text.len())].matches('\n').count() + 1;
        let path_parameter = file.account.path_parameter.clone().unwrap_or_else(|| "account_id".into());
        if path_parameter.is_empty()
            || !path_parameter.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(fail(format!("[account] path_parameter `{path_parameter}` is not a parameter name")));
        }
        let mut routes = Vec::new();
        let mut shapes: BTreeMap<String, usize> = BTreeMap::new();
        let mut written: Vec<_> = file.routes.iter().collect();
        written.sort_by_key(|(key, _)| key.span().start);
        for (key, needs) in written {
            let at = line(key.span());
            let at_line = |reason: String| fail(format!("line {at}: {reason}"));
            let route =
                parse_route(key.get_ref(), needs.get_ref(), catalog, &path_parameter).map_err(at_line)?;
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
        if file.account.path_parameter.is_some() && routes.iter().all(|r| r.account_segment.is_none()) {
            return Err(fail(format!(
                "[account] path_parameter `{path_parameter}`: no route has the segment {{{path_parameter}}}"
            )));
        }
        let header = file.account.header.as_deref().unwrap_or("X-Teamgate-Account").trim().to_owned();
        if header.is_empty() || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(fail(format!("[account] header `{header}` is not a header name")));
        }
        if RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str()) {
            return Err(fail(format!("[account] header `{header}` carries something else; name another")));
        }
        routes.sort_by(|a, b| b.specificity().cmp(&a.specificity()).then_with(|| a.pattern.cmp(&b.pattern)));
        Ok(Self { routes, account_header: header.to_ascii_lowercase() })
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

fn parse_route(
    key: &str,
    needs: &Needs,
    catalog: &PermissionSet,
    account_parameter: &str,
) -> Result<MappedRoute, String> {
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
        let last = i + 1 == raw.len();
        let name = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')).filter(|n| {
            let bare = n.strip_suffix('+').unwrap_or(n);
            !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        segments.push(match (*segment, name) {
            ("**", _) if last => Segment::Rest,
            (_, Some(name)) if name.ends_with('+') && last => Segment::Rest,
            ("**", _) => return Err(format!("`{path}`: ** may only end a path")),
            (_, Some(name)) if name.ends_with('+') => {
                return Err(format!("`{path}`: {{{name}}} may only end a path"));
            }
            ("*", _) => Segment::Any(None),
            (_, Some(name)) => Segment::Any(Some(name.to_owned())),
            ("", _) => return Err(format!("`{path}` has an empty segment")),
            (s, _) if s.contains(['*', '{', '}', ' ']) => {
                return Err(format!("`{s}` in `{path}`: wildcards are whole segments (*, ** or {{name}})"));
            }
            (s, _) => Segment::Literal(s.to_owned()),
        });
    }
    let named = |s: &Segment| *s == Segment::Any(Some(account_parameter.to_owned()));
    let account_segment = segments.iter().position(named);
    if segments.iter().filter(|s| named(s)).count() > 1 {
        return Err(format!("`{path}` names {{{account_parameter}}} twice"));
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
    Ok(MappedRoute { pattern: key.to_owned(), method, segments, needs: permissions, account_segment })
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
        assert_eq!(map.account_header, "x-teamgate-account");
        assert_eq!(map.find("GET", "/sellers/{account_id}/orders").unwrap().account_segment, Some(1));
    }

    #[test]
    fn the_route_with_a_literal_furthest_left_wins_then_a_named_method() {
        let map = map(r#"
[routes]
"GET /a/*/c" = "orders:write"
"GET /*/b/c" = []
"* /sellers/*/orders/archive" = "orders:read"
"DELETE /sellers/*/orders/{order_id}" = "orders:write"
"GET /sellers/*/orders/archive" = "finance:read"
"#)
        .unwrap();
        assert_eq!(needs(&map, "GET", "/a/b/c").unwrap(), ["orders:write"]);
        assert_eq!(needs(&map, "DELETE", "/sellers/{id}/orders/archive").unwrap(), ["orders:read"]);
        assert_eq!(needs(&map, "GET", "/sellers/{id}/orders/archive").unwrap(), ["finance:read"]);
        assert_eq!(needs(&map, "DELETE", "/sellers/{id}/orders/{order_id}").unwrap(), ["orders:write"]);
    }

    #[test]
    fn a_greedy_template_segment_is_matched_only_by_a_rest_of_the_path() {
        let map = map(r#"
[routes]
"* /sellers/{account_id}/*" = []
"POST /sellers/{account_id}/{proxy+}" = "orders:write"
"#)
        .unwrap();
        assert_eq!(needs(&map, "GET", "/sellers/{account_id}/profile").unwrap(), Vec::<String>::new());
        assert_eq!(needs(&map, "POST", "/sellers/{account_id}/{proxy+}").unwrap(), ["orders:write"]);
        assert!(map.find("GET", "/sellers/{account_id}/{proxy+}").is_none());
    }

    #[test]
    fn a_get_route_covers_head() {
        let map = map("[routes]\n\"GET /x/{id}\" = \"orders:read\"\n\"* /x/**\" = []\n").unwrap();
        assert_eq!(needs(&map, "HEAD", "/x/{id}").unwrap(), ["orders:read"]);
    }

    #[test]
    fn the_account_segment_is_where_the_route_names_the_path_parameter() {
        let map = map(r#"
[account]
path_parameter = "seller"
[routes]
"GET /sellers/{seller}/orders" = "orders:read"
"GET /orders" = "orders:read"
"#)
        .unwrap();
        assert_eq!(map.find("GET", "/sellers/{id}/orders").unwrap().account_segment, Some(1));
        assert_eq!(map.find("GET", "/orders").unwrap().account_segment, None);
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
            ("[routes]\n\"HEAD /a\" = []\n", "line 2: `HEAD` is not a method"),
            ("[routes]\n\"GET /{proxy+}/a\" = []\n", "line 2: `/{proxy+}/a`: {proxy+} may only end a path"),
            ("[routes]\n\"GET /{account_id}/{account_id}\" = []\n", "names {account_id} twice"),
            (
                "[account]\npath_parameter = \"acount_id\"\n[routes]\n\"GET /{account_id}\" = []\n",
                "no route has the segment {acount_id}",
            ),
            ("[account]\npath_parameter = \"\"\n[routes]\n\"GET /a\" = []\n", "is not a parameter name"),
            ("[account]\nheader = \"Authorization\"\n[routes]\n\"GET /a\" = []\n", "carries something else"),
        ] {
            let error = map(text).expect_err(text);
            assert!(error.contains(wanted), "{text:?}: {error}");
            assert!(error.starts_with("the route map test.toml: "), "{error}");
        }
    }
}
