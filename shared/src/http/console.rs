//! The team console (`shared/console/`): its page, script and style, each put together from its
//! parts, compiled in and served as they are, under a policy that allows no inline script or
//! style and no other origin. The style is the pages' (`pages/common.css`) then the console's.

use bytes::Bytes;
use http::{HeaderValue, Response, header};

use super::pages::secured;

/// What the console may load and send: only its own files, and the API on the same origin.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// One file of the console.
pub struct Asset {
    body: &'static str,
    content_type: &'static str,
}

/// The page: its head and sign-in, each screen's part, then the dialogs the screens share.
pub const PAGE: Asset = Asset {
    body: concat!(
        include_str!("../../console/top.html"),
        include_str!("../../console/members.html"),
        include_str!("../../console/invite.html"),
        include_str!("../../console/invitations.html"),
        include_str!("../../console/roles.html"),
        include_str!("../../console/audit.html"),
        include_str!("../../console/settings.html"),
        include_str!("../../console/profile.html"),
        include_str!("../../console/bottom.html"),
    ),
    content_type: "text/html; charset=utf-8",
};
/// One module: the core every screen uses, each screen's script, and what starts them.
pub const SCRIPT: Asset = Asset {
    body: concat!(
        include_str!("../../console/core.js"),
        include_str!("../../console/signin.js"),
        include_str!("../../console/members.js"),
        include_str!("../../console/invite.js"),
        include_str!("../../console/invitations.js"),
        include_str!("../../console/roles.js"),
        include_str!("../../console/audit.js"),
        include_str!("../../console/settings.js"),
        include_str!("../../console/profile.js"),
        include_str!("../../console/start.js"),
    ),
    content_type: "text/javascript; charset=utf-8",
};
pub const STYLE: Asset = Asset {
    body: concat!(include_str!("../../pages/common.css"), include_str!("../../console/console.css")),
    content_type: "text/css; charset=utf-8",
};

impl Asset {
    pub fn response(&self) -> Response<Bytes> {
        let body = Bytes::from_static(self.body.as_bytes());
        let mut response =
            secured(body, HeaderValue::from_static(self.content_type), HeaderValue::from_static(POLICY));
        let headers = response.headers_mut();
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // Not fingerprinted: a browser asks again, so a deployment's new console shows at once.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_no_inline_script_style_or_handler_and_loads_only_its_own_files() {
        let page = PAGE.body;
        assert!(!POLICY.contains("unsafe-inline") && !POLICY.contains("http"));
        assert_eq!(page.matches("<script").count(), 1);
        assert!(
            page.contains(r#"<script type="module" src="/console/app.js"></script>"#),
            "a file, not inline"
        );
        assert!(!page.contains("<style") && !page.contains(" style="), "no inline style");
        assert!(!page.contains(" onclick=") && !page.contains(" onload=") && !page.contains("javascript:"));
        assert!(!SCRIPT.body.contains("innerHTML"), "text goes in as text");
    }
}
