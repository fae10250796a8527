//! People's names as the presets constrain them.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::validation::FieldError;

/// Which letters a preset accepts in names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameScript {
    #[default]
    Any,
    Cyrillic,
}

/// A first or last name: trimmed, letters of the preset's script, apostrophes and hyphens
/// only between letters (Мар'яна, Анна-Марія).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

const MAX_CHARS: usize = 100;

impl PersonName {
    pub fn parse(field: &str, raw: &str, script: NameScript, min_letters: usize) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let letters = trimmed.chars().filter(|c| c.is_alphabetic()).count();
        let chars: Vec<char> = trimmed.chars().collect();
        let well_formed = chars.iter().enumerate().all(|(i, &c)| match c {
            c if c.is_alphabetic() => script.allows(c),
            '\'' | '’' | 'ʼ' | '-' | ' ' => i > 0 && i + 1 < chars.len() && chars[i - 1].is_alphabetic(),
            _ => false,
        });
        if !well_formed || letters < min_letters.max(1) || chars.len() > MAX_CHARS {
            let message = match script {
                NameScript::Cyrillic => {
                    format!("Use Cyrillic letters only, at least {min_letters}.")
                }
                NameScript::Any => "Use letters only.".to_owned(),
            };
            return Err(FieldError::new(field, "invalid_name", message));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl NameScript {
    fn allows(self, c: char) -> bool {
        match self {
            Self::Any => true,
            Self::Cyrillic => matches!(c, '\u{0400}'..='\u{04FF}' | '\u{0500}'..='\u{052F}'),
        }
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_names_of_two_letters_or_more_pass() {
        for raw in ["Іван", "Мар'яна", "Анна-Марія", "Їжак", "Ян"] {
            assert!(PersonName::parse("first_name", raw, NameScript::Cyrillic, 2).is_ok(), "{raw}");
        }
    }

    #[test]
    fn latin_short_or_symbolic_names_fail_the_cyrillic_rule() {
        for raw in ["Ivan", "І", "Іван1", "-Іван", "Іван-", "Iван", ""] {
            let error = PersonName::parse("last_name", raw, NameScript::Cyrillic, 2).unwrap_err();
            assert_eq!((error.field.as_str(), error.code), ("last_name", "invalid_name"), "{raw}");
        }
    }

    #[test]
    fn any_script_accepts_letters_from_everywhere() {
        assert!(PersonName::parse("first_name", "Zoë O'Brien", NameScript::Any, 1).is_ok());
        assert!(PersonName::parse("first_name", "Łucja", NameScript::Any, 1).is_ok());
        assert!(PersonName::parse("first_name", "<script>", NameScript::Any, 1).is_err());
    }
}
