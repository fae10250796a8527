//! The two pages people reach from emailed links. Each has one inline script and one inline
//! style, allowed by hash in a strict Content-Security-Policy; the token stays in the URL
//! fragment.
//!
//! What the pages have in common (layout, form styling, reading the token from the fragment,
//! posting and showing problem+json errors, the password checks) lives once, in
//! `pages/common.css` and `pages/common.js`. Each page marks where it goes, `/* common.css */`
//! inside its style and `/* common.js */` inside its script, and is composed once at start-up:
//! no extra route, no extra round trip. The hashes are computed over the composed page, which
//! is exactly what is served.
//!
//! Where a page leads people on (the sign-in, the marketplace's support) is the deployment's
//! (`domain/guidance.rs`): each page carries it as `<meta>` elements in its head, filled in when
//! it is composed, which the script reads; no script is written from configuration, so the
//! hashes stay those of the files.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, Response, header};

use crate::domain::{Guidance, Support};

/// The shared stylesheet, and the marker a page's `<style>` puts where it goes.
const COMMON_CSS: &str = include_str!("../../pages/common.css");
const CSS_MARKER: &str = "/* common.css */";
/// The shared script, and the marker a page's `<script>` puts where it goes (inside the page's
/// own function, so page and shared code share one scope and nothing is global).
const COMMON_JS: &str = include_str!("../../pages/common.js");
const JS_MARKER: &str = "/* common.js */";

pub struct Page {
    html: Bytes,
    policy: HeaderValue,
}

pub struct Pages {
    pub activate: Page,
    pub reset_password: Page,
}

impl Pages {
    /// The compiled-in pages, leading on where `guidance` says.
    pub fn new(guidance: &Guidance) -> Self {
        Self {
            activate: Page::new(include_str!("../../pages/activate.html"), guidance),
            reset_password: Page::new(include_str!("../../pages/reset-password.html"), guidance),
        }
    }
}

impl Page {
    fn new(source: &str, guidance: &Guidance) -> Self {
        let html = compose(source).replacen("</head>", &format!("{}</head>", meta(guidance)), 1);
        let hash = |tag: &str| {
            let body = inline(&html, tag).unwrap_or_default();
            let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
            format!("'sha256-{}'", STANDARD.encode(digest.as_ref()))
        };
        let policy = format!(
            "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            hash("script"),
            hash("style"),
        );
        Self { policy: HeaderValue::from_str(&policy).expect("ASCII policy"), html: Bytes::from(html) }
    }

    pub fn response(&self) -> Response<Bytes> {
        let html = HeaderValue::from_static("text/html; charset=utf-8");
        secured(self.html.clone(), html, self.policy.clone())
    }
}

/// A file a browser renders, with its type and `policy`, never framed and never telling another
/// site where its reader came from: the pages' and the console's (`console.rs`).
pub fn secured(body: Bytes, content_type: HeaderValue, policy: HeaderValue) -> Response<Bytes> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The page with the shared style and script put in place of their markers. The pages are
/// built in, so a page that breaks the layout the hashes rely on (one `<style>`, one `<script>`,
/// each marker once, inside its own block) fails at start-up and in the tests below.
fn compose(source: &str) -> String {
    for (tag, marker, shared) in [("style", CSS_MARKER, COMMON_CSS), ("script", JS_MARKER, COMMON_JS)] {
        assert_eq!(source.matches(&format!("<{tag}")).count(), 1, "a page has exactly one <{tag}>");
        assert_eq!(source.matches(marker).count(), 1, "a page places {marker} exactly once");
        assert!(inline(source, tag).is_some_and(|b| b.contains(marker)), "{marker} is inside the <{tag}>");
        let lower = shared.to_ascii_lowercase();
        let closes = ["<!--", "<script", "</script", "<style", "</style"].iter().any(|s| lower.contains(s));
        assert!(!closes, "{marker} cannot end or reopen its block");
    }
    source.replacen(CSS_MARKER, COMMON_CSS.trim_end(), 1).replacen(JS_MARKER, COMMON_JS.trim_end(), 1)
}

/// The `<meta>` elements that tell a page's script where to lead people on: `teamgate-sign-in`
/// (absent where there is none) and `teamgate-support` with its kind, `link` or `text`.
fn meta(guidance: &Guidance) -> String {
    let mut meta = String::new();
    if let Some(sign_in) = &guidance.sign_in {
        meta += &format!("<meta name=\"teamgate-sign-in\" content=\"{}\">\n", attribute(sign_in.as_str()));
    }
    if let Some(support) = &guidance.support {
        let kind = match support {
            Support::Link(_) => "link",
            Support::Text(_) => "text",
        };
        let content = attribute(support.as_str());
        meta += &format!("<meta name=\"teamgate-support\" content=\"{content}\" data-kind=\"{kind}\">\n");
    }
    meta
}

/// `text` as an HTML attribute's value (between double quotes).
fn attribute(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The text between `<tag>` (or `<tag ...>`) and `</tag>`.
fn inline<'a>(html: &'a str, tag: &str) -> Option<&'a str> {
    let open = html.find(&format!("<{tag}"))?;
    let start = open + html[open..].find('>')? + 1;
    let end = start + html[start..].find(&format!("</{tag}>"))?;
    Some(&html[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(page: &Page) -> &str {
        std::str::from_utf8(&page.html).unwrap()
    }

    #[test]
    fn pages_allow_exactly_their_own_inline_script_and_style() {
        let pages = Pages::new(&Guidance::default());
        for page in [&pages.activate, &pages.reset_password] {
            let (policy, html) = (page.policy.to_str().unwrap(), html(page));
            assert!(!policy.contains("unsafe-inline"));
            assert_eq!(html.matches("<script").count(), 1, "one inline script");
            assert_eq!(html.matches("<style").count(), 1, "one inline style");
            assert!(!html.contains(" style="), "no style attributes: the policy refuses them");
            assert!(!html.contains(" onclick=") && !html.contains(" onload="), "no inline handlers");
            for tag in ["script", "style"] {
                let digest =
                    ring::digest::digest(&ring::digest::SHA256, inline(html, tag).unwrap().as_bytes());
                let source = format!("{tag}-src 'sha256-{}';", STANDARD.encode(digest.as_ref()));
                assert!(policy.contains(&source), "{source} in {policy}");
            }
        }
    }

    #[test]
    fn each_page_carries_the_shared_style_and_script_once_in_place_of_the_markers() {
        let pages = Pages::new(&Guidance::default());
        for page in [&pages.activate, &pages.reset_password] {
            let html = html(page);
            assert_eq!(html.matches(COMMON_CSS.trim_end()).count(), 1);
            assert_eq!(html.matches(COMMON_JS.trim_end()).count(), 1);
            assert!(!html.contains(CSS_MARKER) && !html.contains(JS_MARKER));
            assert!(inline(html, "style").unwrap().trim_start().starts_with(COMMON_CSS.trim_end()));
            assert!(inline(html, "script").unwrap().contains(COMMON_JS.trim_end()));
            // The elements the shared script reaches for.
            for id in ["h", "msg", "password", "password2", "pw-hint", "show"] {
                assert!(html.contains(&format!(" id=\"{id}\"")), "#{id}");
            }
        }
    }

    #[test]
    fn each_page_says_where_it_leads_in_its_head_as_text_and_nowhere_when_nothing_is_named() {
        let guidance = Guidance {
            sign_in: Some(crate::domain::SignIn::parse("https://seller.example/team?a=1&b=2").unwrap()),
            support: Some(Support::parse("Seller support <desk>: \"Help\"").unwrap()),
        };
        let (named, unnamed) = (Pages::new(&guidance), Pages::new(&Guidance::default()));
        for page in [&named.activate, &named.reset_password] {
            let head = html(page).split("</head>").next().unwrap();
            assert!(head.contains(
                r#"<meta name="teamgate-sign-in" content="https://seller.example/team?a=1&amp;b=2">"#
            ));
            assert!(head.contains(
                r#"<meta name="teamgate-support" content="Seller support &lt;desk&gt;: &quot;Help&quot;" data-kind="text">"#
            ));
        }
        for page in [&unnamed.activate, &unnamed.reset_password] {
            assert!(!html(page).contains("<meta name=\"teamgate-"), "no guidance named, none carried");
        }
    }

    /// The body is dropped where every transport sees it, in `Api::handle`: what the web Lambda
    /// function hands API Gateway for a HEAD is the GET's status and headers, and no body.
    #[tokio::test]
    async fn head_on_a_page_is_its_get_without_the_body_as_the_web_function_answers_it() {
        use crate::config::{Config, Deployment, MailerChoice, StoreChoice};
        use crate::http::{Origin, routes::Function};
        let mut config = Config::from_env(Deployment::DevServer).expect("dev defaults");
        (config.store, config.mailer) = (StoreChoice::Memory, MailerChoice::Outbox);
        let (api, origin) = (config.build().await.expect("the app builds"), Origin::default());
        for path in ["/activate", "/reset-password"] {
            let ask = |method| {
                let mut request = http::Request::new(Bytes::new());
                (*request.method_mut(), *request.uri_mut()) = (method, path.parse().unwrap());
                api.handle::<{ Function::Web.scope() }>(request, &origin)
            };
            let (get, head) = (ask(http::Method::GET).await, ask(http::Method::HEAD).await);
            assert_eq!((get.status().as_u16(), head.status().as_u16()), (200, 200));
            assert!(head.body().is_empty() && !get.body().is_empty());
            assert_eq!(head.headers()[header::CONTENT_LENGTH], get.body().len().to_string().as_str());
            for (name, value) in get.headers() {
                assert_eq!(head.headers().get(name), Some(value), "{path}: {name}");
            }
        }
    }
}
