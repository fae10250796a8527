//! Field-level validation failures, collected so one response can name every bad field.

use serde::Serialize;
use std::collections::BTreeSet;

/// One field that failed validation, with a stable code clients can branch on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), code, message: message.into() }
    }
}

/// Every field error of one request; empty means the input is valid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Runs `parse` and keeps its value, or records its error under `field`.
    pub fn check<T, E: Into<FieldError>>(&mut self, result: Result<T, E>) -> Option<T> {
        result.map_err(|e| self.push(e.into())).ok()
    }

    pub fn absorb(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    /// Keeps `result`'s value, or absorbs its errors.
    pub fn check_all<T>(&mut self, result: Result<T, FieldErrors>) -> Option<T> {
        result.map_err(|e| self.absorb(e)).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(value)` when nothing failed, else every collected error.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.0.is_empty() { Ok(value()) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

/// `raw` without its surrounding whitespace, if that is `chars` characters long and holds no
/// control character: the rule of every name a person types (an account's, a key's, a role's).
pub fn plain_text(raw: &str, chars: std::ops::RangeInclusive<usize>) -> Option<&str> {
    let trimmed = raw.trim();
    let fits = chars.contains(&trimmed.chars().count()) && !trimmed.chars().any(char::is_control);
    fits.then_some(trimmed)
}

/// How much of a name a field error quotes.
pub const NAME_SHOWN_CHARS: usize = 64;

/// "`a` is not a role", "`a`, `b` are not roles": names a request gave that are not `what`,
/// at most five of them (each cut to `NAME_SHOWN_CHARS` characters) and how many more, so that
/// no request makes a long answer of them.
pub fn not_one_of(names: &[&str], what: &str) -> String {
    const SHOWN: usize = 5;
    let mut seen = BTreeSet::new();
    let distinct: Vec<&str> = names.iter().copied().filter(|name| seen.insert(*name)).collect();
    let quoted: Vec<String> = distinct
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{}`", n.chars().take(NAME_SHOWN_CHARS).collect::<String>()))
        .collect();
    let more = match distinct.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    match distinct.len() {
        1 => format!("{}{more} is not {what}", quoted.join(", ")),
        _ => format!("{}{more} are not {}s", quoted.join(", "), what.trim_start_matches("a ")),
    }
}
