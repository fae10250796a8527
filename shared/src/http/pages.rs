//! The two pages people reach from emailed links. Each has one inline script and style,
//! allowed by hash in a strict Content-Security-Policy; the token stays in the URL fragment.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, Response, header};

pub struct Page {
    html: Bytes,
    policy: HeaderValue,
}

pub struct Pages {
    pub activate: Page,
    pub reset_password: Page,
}

impl Pages {
    pub fn builtin() -> Self {
        Self {
            activate: Page::new(include_str!("../../pages/activate.html")),
            reset_password: Page::new(include_str!("../../pages/reset-password.html")),
        }
    }
}

impl Page {
    fn new(html: &'static str) -> Self {
        let hash = |tag: &str| {
            let body = inline(html, tag).unwrap_or_default();
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body.as_bytes());
            format!("'sha256-{}'", STANDARD.encode(digest.as_ref()))
        };
        let policy = format!(
            "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            hash("script"),
            hash("style"),
        );
        Self {
            html: Bytes::from_static(html.as_bytes()),
            policy: HeaderValue::from_str(&policy).expect("ASCII policy"),
        }
    }

    pub fn response(&self) -> Response<Bytes> {
        let mut response = Response::new(self.html.clone());
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        headers.insert(header::CONTENT_SECURITY_POLICY, self.policy.clone());
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        response
    }
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

    #[test]
    fn pages_allow_exactly_their_own_inline_script_and_style() {
        let pages = Pages::builtin();
        for page in [&pages.activate, &pages.reset_password] {
            let policy = page.policy.to_str().unwrap();
            assert!(policy.contains("script-src 'sha256-"), "{policy}");
            assert!(!policy.contains("unsafe-inline"));
            let html = std::str::from_utf8(&page.html).unwrap();
            assert_eq!(html.matches("<script").count(), 1, "one inline script");
            assert!(!html.contains(" onclick="), "no inline handlers");
        }
    }
}
