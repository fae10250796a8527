//! Phone numbers, stored in E.164 so one number has one spelling for uniqueness.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::validation::FieldError;

/// A number in E.164 (`+380671234567`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

/// A preset's national numbering rule (country code, trunk prefix, operator codes).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneRule {
    pub country_code: String,
    pub trunk_prefix: String,
    pub operator_codes: Vec<String>,
    pub subscriber_digits: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid phone number")]
pub struct InvalidPhone;

impl Phone {
    /// Parses under `rule` when the preset has one (national, international with or without `+`),
    /// otherwise any international number of 8 to 15 digits written with a leading `+`.
    pub fn parse(raw: &str, rule: Option<&PhoneRule>) -> Result<Self, InvalidPhone> {
        let trimmed = raw.trim();
        let plus = trimmed.starts_with('+');
        let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
        if !body.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.')) {
            return Err(InvalidPhone);
        }
        let digits: String = body.chars().filter(char::is_ascii_digit).collect();
        match rule {
            Some(rule) => rule.normalize(&digits).map(Self),
            None if plus && (8..=15).contains(&digits.len()) && !digits.starts_with('0') => {
                Ok(Self(format!("+{digits}")))
            }
            None => Err(InvalidPhone),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PhoneRule {
    fn normalize(&self, digits: &str) -> Result<String, InvalidPhone> {
        let national = digits
            .strip_prefix(&self.country_code)
            .or_else(|| digits.strip_prefix(&self.trunk_prefix))
            .ok_or(InvalidPhone)?;
        let operator = self
            .operator_codes
            .iter()
            .find(|code| national.starts_with(code.as_str()))
            .ok_or(InvalidPhone)?;
        if national.len() != operator.len() + self.subscriber_digits {
            return Err(InvalidPhone);
        }
        Ok(format!("+{}{}", self.country_code, national))
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<InvalidPhone> for FieldError {
    fn from(_: InvalidPhone) -> Self {
        FieldError::new("phone", "invalid_phone", "Enter a valid mobile phone number.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ukrainian() -> PhoneRule {
        PhoneRule {
            country_code: "380".into(),
            trunk_prefix: "0".into(),
            operator_codes: [
                "39", "50", "63", "66", "67", "68", "73", "77", "89", "91", "92", "93", "94", "95", "96",
                "97", "98", "99",
            ]
            .map(String::from)
            .to_vec(),
            subscriber_digits: 7,
        }
    }

    #[test]
    fn ukrainian_mobile_numbers_in_every_accepted_spelling_store_as_e164() {
        let rule = ukrainian();
        for raw in ["0671234567", "+380 67 123 45 67", "380671234567", "(067) 123-45-67"] {
            assert_eq!(Phone::parse(raw, Some(&rule)).unwrap().as_str(), "+380671234567", "{raw}");
        }
    }

    #[test]
    fn other_operators_lengths_and_characters_are_refused() {
        let rule = ukrainian();
        for raw in ["0441234567", "067123456", "06712345678", "+48 601 234 567", "067-abc-4567", ""] {
            assert_eq!(Phone::parse(raw, Some(&rule)), Err(InvalidPhone), "{raw}");
        }
    }

    #[test]
    fn without_a_rule_only_international_numbers_are_accepted() {
        assert_eq!(Phone::parse("+48 601 234 567", None).unwrap().as_str(), "+48601234567");
        assert_eq!(Phone::parse("601234567", None), Err(InvalidPhone));
    }
}
