//! Email addresses in one canonical form, the form used for uniqueness and sign-in.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::validation::FieldError;

/// A syntactically valid address: trimmed, lowercase, domain in ASCII (IDN → punycode).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address")]
pub struct InvalidEmail;

const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";

impl Email {
    /// Refuses invisible and format characters outright: IDNA would silently drop some of them
    /// (a soft hyphen, a zero-width joiner), so two spellings could name one address.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let trimmed = raw.trim();
        if trimmed.chars().any(is_invisible) {
            return Err(InvalidEmail);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(InvalidEmail)?;
        if !valid_local_part(local) {
            return Err(InvalidEmail);
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| InvalidEmail)?;
        if !valid_domain(&domain) {
            return Err(InvalidEmail);
        }
        let canonical = format!("{}@{}", local.to_ascii_lowercase(), domain);
        if canonical.len() > 254 {
            return Err(InvalidEmail);
        }
        Ok(Self(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// The address with most of the local part hidden, for log lines.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let first = local.chars().next().unwrap_or('*');
        format!("{first}***@{domain}")
    }
}

/// Format, bidi-control, filler and other invisible characters, and controls.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

fn valid_local_part(local: &str) -> bool {
    (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()))
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output never shows a whole address, so a stray `{:?}` cannot leak one into a log.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

impl From<InvalidEmail> for FieldError {
    fn from(_: InvalidEmail) -> Self {
        FieldError::new("email", "invalid_email", "Enter an email address like name@example.com.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_trimmed_lowercase_and_punycode() {
        let email = Email::parse("  Anna.K@Shop.Example ").unwrap();
        assert_eq!(email.as_str(), "anna.k@shop.example");
        let idn = Email::parse("ivan@пример.укр").unwrap();
        assert_eq!(idn.as_str(), "ivan@xn--e1afmkfd.xn--j1amh");
        assert_eq!(Email::parse("IVAN@ПРИМЕР.УКР").unwrap(), idn);
    }

    #[test]
    fn invisible_and_format_characters_are_refused_and_full_width_letters_fold() {
        for raw in [
            "anna@shop\u{00AD}.example",
            "anna@sh\u{200B}op.example",
            "an\u{200D}na@shop.example",
            "anna@shop.example\u{202E}",
            "\u{FEFF}anna@shop.example",
            "anna@sho\u{2060}p.example",
            "anna@shop\u{E0041}.example",
        ] {
            assert_eq!(Email::parse(raw), Err(InvalidEmail), "{raw:?}");
        }
        assert_eq!(Email::parse("anna@ｓｈｏｐ.example").unwrap().as_str(), "anna@shop.example");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for raw in [
            "",
            "anna",
            "@shop.example",
            "anna@",
            "anna@shop",
            "an na@shop.example",
            "anna..k@shop.example",
            ".anna@shop.example",
            "anna@-shop.example",
            "anna@shop.123",
            "анна@shop.example",
        ] {
            assert_eq!(Email::parse(raw), Err(InvalidEmail), "{raw:?}");
        }
    }

    #[test]
    fn masked_form_hides_the_local_part() {
        assert_eq!(Email::parse("anna@shop.example").unwrap().masked(), "a***@shop.example");
    }
}
