//! Passwords checked against a preset's policy (NIST SP 800-63B-4 style by default).

use serde::Deserialize;
use std::fmt;

use super::validation::FieldError;

/// Bytes of password input accepted at all: argon2 cost must not depend on attacker input size.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Which characters a preset allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordCharset {
    #[default]
    Any,
    /// Latin letters, digits and the printable ASCII specials (ua-marketplace).
    LatinPrintable,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    #[serde(default)]
    pub charset: PasswordCharset,
    #[serde(default, skip_serializing)]
    pub refuse_common: bool,
}

impl serde::Serialize for PasswordCharset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Self::Any => "any",
            Self::LatinPrintable => "latin_printable",
        })
    }
}

/// A password that satisfied its policy. Never printed.
pub struct Password(String);

/// The shortest password a policy that refuses common passwords may allow (NIST SP 800-63B's
/// minimum), and so the shortest entry of the compiled list (`shared/build.rs`).
pub const SHORTEST_CHECKED: usize = 8;

/// The common-password list's entries of `SHORTEST_CHECKED` characters or more, sorted, one per
/// line (`shared/build.rs`).
const COMMON_PASSWORDS: &str = include_str!(concat!(env!("OUT_DIR"), "/common-passwords.txt"));

impl PasswordPolicy {
    /// The policy of a person in several accounts at once: a password passes it when it passes
    /// each of theirs (the longest minimum, the shortest maximum, the narrowest characters).
    pub fn all_of<'a>(first: &'a Self, others: impl IntoIterator<Item = &'a Self>) -> Self {
        others.into_iter().fold(first.clone(), |all, policy| Self {
            min_length: all.min_length.max(policy.min_length),
            max_length: all.max_length.min(policy.max_length),
            charset: match (all.charset, policy.charset) {
                (PasswordCharset::Any, PasswordCharset::Any) => PasswordCharset::Any,
                _ => PasswordCharset::LatinPrintable,
            },
            refuse_common: all.refuse_common || policy.refuse_common,
        })
    }
}

impl Password {
    /// Checks `raw` for the field `field` (`password` or `new_password`).
    pub fn parse(field: &str, raw: &str, policy: &PasswordPolicy) -> Result<Self, FieldError> {
        let length = raw.chars().count();
        if raw.len() > MAX_PASSWORD_BYTES || length > policy.max_length {
            return Err(FieldError::new(
                field,
                "password_too_long",
                format!("Use at most {} characters.", policy.max_length),
            ));
        }
        if length < policy.min_length {
            return Err(FieldError::new(
                field,
                "password_too_short",
                format!("Use at least {} characters.", policy.min_length),
            ));
        }
        let allowed = |c: char| match policy.charset {
            PasswordCharset::Any => !c.is_control(),
            PasswordCharset::LatinPrintable => c.is_ascii_graphic(),
        };
        if !raw.chars().all(allowed) {
            let message = match policy.charset {
                PasswordCharset::LatinPrintable => {
                    "Use only Latin letters, digits and the symbols ! \" # $ % & ' ( ) * + , - . / : ; < = > ? @ [ \\ ] ^ _ ` { | } ~."
                }
                PasswordCharset::Any => "Control characters cannot be part of a password.",
            };
            return Err(FieldError::new(field, "password_invalid_characters", message));
        }
        if policy.refuse_common && is_common(raw) {
            return Err(FieldError::new(
                field,
                "password_too_common",
                "This password is too common or appeared in a breach; choose another.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn is_common(raw: &str) -> bool {
    let lowered = raw.to_lowercase();
    is_line_of(COMMON_PASSWORDS, &lowered) || is_repetition(&lowered)
}

/// Whether `wanted` is a line of `sorted` (lines in byte order): a binary search over the text.
fn is_line_of(sorted: &str, wanted: &str) -> bool {
    let text = sorted.as_bytes();
    // `low` is always the start of a line, `high` the start of one or the end.
    let (mut low, mut high) = (0, text.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let start = text[low..middle].iter().rposition(|b| *b == b'\n').map_or(low, |i| low + i + 1);
        let end = text[start..].iter().position(|b| *b == b'\n').map_or(text.len(), |i| start + i);
        match text[start..end].cmp(wanted.as_bytes()) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => low = end + 1,
            std::cmp::Ordering::Greater => high = start,
        }
    }
    false
}

/// `aaaaaaaaaaaaaaa` or `abcabcabcabcabc`: long only by repeating a short piece.
fn is_repetition(lowered: &str) -> bool {
    let chars: Vec<char> = lowered.chars().collect();
    (1..=3).any(|period| {
        chars.len() > period * 2 && chars.iter().enumerate().all(|(i, c)| *c == chars[i % period])
    })
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_policy_of_several_accounts_holds_each_ones_rule() {
        let standard = PasswordPolicy {
            min_length: 15,
            max_length: 128,
            charset: PasswordCharset::Any,
            refuse_common: true,
        };
        let latin = PasswordPolicy {
            min_length: 8,
            max_length: 64,
            charset: PasswordCharset::LatinPrintable,
            refuse_common: false,
        };
        let both = PasswordPolicy::all_of(&standard, [&latin]);
        assert_eq!(
            both,
            PasswordPolicy {
                min_length: 15,
                max_length: 64,
                charset: PasswordCharset::LatinPrintable,
                refuse_common: true
            }
        );
        assert_eq!(PasswordPolicy::all_of(&latin, []), latin);
        for raw in ["Correct-Horse-Battery-42", "short1!", "Пароль-довгий-досить-42", "password1234567890"]
        {
            let each =
                Password::parse("p", raw, &standard).is_ok() && Password::parse("p", raw, &latin).is_ok();
            assert_eq!(Password::parse("p", raw, &both).is_ok(), each, "{raw}");
        }
    }

    use super::*;

    fn standard() -> PasswordPolicy {
        PasswordPolicy { min_length: 15, max_length: 128, charset: PasswordCharset::Any, refuse_common: true }
    }

    fn ukrainian() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 6,
            max_length: 128,
            charset: PasswordCharset::LatinPrintable,
            refuse_common: false,
        }
    }

    fn code(result: Result<Password, FieldError>) -> &'static str {
        result.map(|_| "ok").unwrap_or_else(|e| e.code)
    }

    #[test]
    fn the_compiled_list_is_sorted_starts_at_the_shortest_checked_length_and_finds_each_entry() {
        let entries: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert!(entries.windows(2).all(|pair| pair[0] < pair[1]), "sorted, no repeats");
        let shortest = entries.iter().map(|e| e.chars().count()).min();
        assert_eq!(shortest, Some(SHORTEST_CHECKED), "shared/build.rs keeps what a policy can meet");
        assert!(entries.iter().all(|entry| is_line_of(COMMON_PASSWORDS, entry)));
        for absent in ["", "a", "teamgate-is-not-common", "zzzzzzzzzzzzzzzzzzzzzz", "0", "passwor"] {
            assert!(!is_line_of(COMMON_PASSWORDS, absent), "{absent}");
        }
    }

    #[test]
    fn standard_policy_wants_length_not_composition() {
        assert_eq!(code(Password::parse("password", "correct horse battery", &standard())), "ok");
        assert_eq!(code(Password::parse("password", "Sh0rt!pass", &standard())), "password_too_short");
        assert_eq!(code(Password::parse("password", &"x".repeat(129), &standard())), "password_too_long");
        assert_eq!(
            code(Password::parse("password", "ééééééééééééééééé", &standard())),
            "password_too_common"
        );
        assert_eq!(
            code(Password::parse("password", "line\nbreak in the password", &standard())),
            "password_invalid_characters"
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(code(Password::parse("password", "1QAZ2WSX3EDC4RFV", &standard())), "password_too_common");
        assert_eq!(
            code(Password::parse("password", "abcabcabcabcabcabc", &standard())),
            "password_too_common"
        );
    }

    #[test]
    fn ukrainian_policy_allows_six_latin_printable_characters() {
        assert_eq!(code(Password::parse("password", "Ab1!x_", &ukrainian())), "ok");
        assert_eq!(code(Password::parse("password", "Ab1!x", &ukrainian())), "password_too_short");
        assert_eq!(
            code(Password::parse("password", "Пароль123", &ukrainian())),
            "password_invalid_characters"
        );
        assert_eq!(
            code(Password::parse("password", "with space", &ukrainian())),
            "password_invalid_characters"
        );
    }

    #[test]
    fn oversized_input_is_refused_before_any_hashing() {
        let huge = "é".repeat(MAX_PASSWORD_BYTES);
        assert_eq!(
            code(Password::parse("password", &huge, &PasswordPolicy { max_length: 100_000, ..standard() })),
            "password_too_long"
        );
    }
}
