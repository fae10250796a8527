//! The languages Teamgate speaks: those of the marketplaces' help pages.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Uk,
    Pl,
}

impl Locale {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "uk" => Some(Self::Uk),
            "pl" => Some(Self::Pl),
            _ => None,
        }
    }
}

/// A text in every supported language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub en: String,
    pub uk: String,
    pub pl: String,
}

impl Localized {
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::En => &self.en,
            Locale::Uk => &self.uk,
            Locale::Pl => &self.pl,
        }
    }
}
