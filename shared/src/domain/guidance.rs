//! Where the activation and reset pages send people once they are done or stuck, as the
//! deployment names it: the sign-in (the team console's, or a marketplace's own screen) and who
//! to ask for help (the marketplace's support). The pages put these values into links, so only
//! addresses a browser opens harmlessly pass: never `javascript:`, `data:` or another origin over
//! plain HTTP.

/// The longest address or text accepted: an address bar's worth.
const MOST_CHARS: usize = 2000;

/// Where a person signs in: an `https://` URL, or a path on the pages' own origin (`/console`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignIn(String);

/// Who to ask when only the marketplace can help (an owner's expired link): a link (`https://`
/// or `mailto:`; a bare email address becomes a `mailto:`) or a plain sentence shown as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Support {
    Link(String),
    Text(String),
}

/// What the pages show to lead people on: `None` where the deployment names nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Guidance {
    pub sign_in: Option<SignIn>,
    pub support: Option<Support>,
}

impl SignIn {
    /// The team console's own sign-in, on the pages' origin.
    pub fn console() -> Self {
        Self("/console".into())
    }

    /// An `https://` URL with a host, or a path on this origin (`/…`, not `//…`, which a browser
    /// reads as another host).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = plain(raw)?;
        let same_origin = raw.starts_with('/') && !raw.starts_with("//") && !raw.starts_with("/\\");
        if same_origin || is_https(raw) {
            return Ok(Self(raw.to_owned()));
        }
        Err(format!("`{raw}` is neither an https:// URL nor a path on this origin such as /console"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Support {
    /// An `https://` URL or a `mailto:` address is a link, a bare email address a `mailto:`
    /// link; anything else that names a scheme (`javascript:`, `http:`) is refused, and the rest
    /// is a sentence shown as text.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = plain(raw)?;
        if is_https(raw) {
            return Ok(Self::Link(raw.to_owned()));
        }
        if let Some(address) = raw.strip_prefix("mailto:") {
            return crate::domain::Email::parse(address)
                .map(|_| Self::Link(raw.to_owned()))
                .map_err(|_| format!("`{raw}` is not a mailto: link to an email address"));
        }
        if crate::domain::Email::parse(raw).is_ok() {
            return Ok(Self::Link(format!("mailto:{raw}")));
        }
        if names_a_scheme(raw) {
            return Err(format!("`{raw}` is a link, but only https:// and mailto: links are allowed"));
        }
        Ok(Self::Text(raw.to_owned()))
    }

    /// The link's address, or the text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Link(value) | Self::Text(value) => value,
        }
    }
}

/// The value, refused when too long or carrying control characters.
fn plain(raw: &str) -> Result<&str, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().count() > MOST_CHARS {
        return Err(format!("must be 1 to {MOST_CHARS} characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(raw)
}

/// `https://` followed by a host, with no space or quote that would end the link early.
fn is_https(raw: &str) -> bool {
    let Some(rest) = raw.get(..8).filter(|s| s.eq_ignore_ascii_case("https://")).map(|_| &raw[8..]) else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty() && !raw.contains([' ', '"', '\'', '<', '>', '\\'])
}

/// Whether the value starts like `scheme:` (letters, then a colon, before any space).
fn names_a_scheme(raw: &str) -> bool {
    let head = raw.split(char::is_whitespace).next().unwrap_or_default();
    head.split_once(':').is_some_and(|(scheme, _)| {
        scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_is_an_https_url_or_a_path_on_this_origin() {
        for good in ["/console", "/console#/members", "https://seller.example.com/team", "HTTPS://a.example"]
        {
            assert_eq!(SignIn::parse(good).map(|s| s.as_str().to_owned()), Ok(good.to_owned()));
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<b>x</b>",
            "http://seller.example.com",
            "//evil.example/console",
            "/\\evil.example",
            "console",
            "https://",
            "https:///path",
            "https://a.example/\"onmouseover=x",
            "/con\nsole",
            "",
        ] {
            assert!(SignIn::parse(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn a_support_contact_is_a_safe_link_an_email_or_plain_text() {
        let link = |s: &str| Ok(Support::Link(s.to_owned()));
        assert_eq!(
            Support::parse("https://help.example.com/sellers"),
            link("https://help.example.com/sellers")
        );
        assert_eq!(Support::parse("mailto:help@example.com"), link("mailto:help@example.com"));
        assert_eq!(Support::parse("help@example.com"), link("mailto:help@example.com"));
        let text = "Seller support: Settings → Help, or call 0 800 000 000";
        assert_eq!(Support::parse(text), Ok(Support::Text(text.to_owned())));
        for bad in
            ["javascript:alert(1)", "http://help.example.com", "data:,x", "mailto:nobody", "a\u{7}b", ""]
        {
            assert!(Support::parse(bad).is_err(), "{bad:?} is refused");
        }
    }
}
