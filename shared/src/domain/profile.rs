//! A person's profile fields: as a request gives them, the preset's rules for them, and what
//! passed those rules.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::name::{NameScript, PersonName};
use super::phone::{Phone, PhoneRule};
use super::validation::{FieldError, FieldErrors};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    FirstName,
    LastName,
    Phone,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRules {
    pub required: BTreeSet<ProfileField>,
    pub name_script: NameScript,
    pub name_min_length: usize,
    pub phone: Option<PhoneRule>,
}

/// Profile fields as a request gives them.
#[derive(Clone, Debug, Default)]
pub struct ProfileInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
}

impl ProfileInput {
    /// The fields given here (blank ones count as absent), else `fallback`'s.
    pub fn or(self, fallback: ProfileInput) -> ProfileInput {
        let pick =
            |given: Option<String>, known: Option<String>| given.filter(|v| !v.trim().is_empty()).or(known);
        ProfileInput {
            first_name: pick(self.first_name, fallback.first_name),
            last_name: pick(self.last_name, fallback.last_name),
            phone: pick(self.phone, fallback.phone),
        }
    }
}

/// Profile fields that passed the preset's rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub phone: Option<Phone>,
}

impl ProfileRules {
    /// Checks the given fields; with `enforce_required`, a field the preset requires must be there.
    pub fn parse(&self, input: &ProfileInput, enforce_required: bool) -> Result<Profile, FieldErrors> {
        let rules = self;
        let required = |field| enforce_required && rules.required.contains(&field);
        let name =
            |key: &str, raw: &str| PersonName::parse(key, raw, rules.name_script, rules.name_min_length);
        let mut errors = FieldErrors::default();
        let first_name = profile_field(
            &mut errors,
            &input.first_name,
            required(ProfileField::FirstName),
            "first_name",
            "invalid_name",
            |raw| name("first_name", raw),
        );
        let last_name = profile_field(
            &mut errors,
            &input.last_name,
            required(ProfileField::LastName),
            "last_name",
            "invalid_name",
            |raw| name("last_name", raw),
        );
        let phone = profile_field(
            &mut errors,
            &input.phone,
            required(ProfileField::Phone),
            "phone",
            "invalid_phone",
            |raw| Phone::parse(raw, rules.phone.as_ref()).map_err(FieldError::from),
        );
        errors.finish(|| Profile { first_name, last_name, phone })
    }

    /// How the activation page should treat each profile field: `required`, `optional` or `hidden`.
    /// A field the person already has is `hidden` (activation does not change it; `PATCH /v1/me`
    /// does); one they lack is `required` when the preset requires it (`known` holds what they have).
    pub fn fields(&self, known: &ProfileInput) -> BTreeMap<&'static str, &'static str> {
        let has = |field: ProfileField| {
            let value = match field {
                ProfileField::FirstName => &known.first_name,
                ProfileField::LastName => &known.last_name,
                ProfileField::Phone => &known.phone,
            };
            value.as_deref().is_some_and(|v| !v.trim().is_empty())
        };
        let state = |field: ProfileField, shown: bool| {
            if has(field) {
                "hidden"
            } else if self.required.contains(&field) {
                "required"
            } else if shown {
                "optional"
            } else {
                "hidden"
            }
        };
        BTreeMap::from([
            ("first_name", state(ProfileField::FirstName, true)),
            ("last_name", state(ProfileField::LastName, true)),
            ("phone", state(ProfileField::Phone, self.phone.is_some())),
        ])
    }
}

/// One optional profile field: parsed when given, an error under `code` when required and absent.
fn profile_field<T>(
    errors: &mut FieldErrors,
    value: &Option<String>,
    required: bool,
    key: &str,
    code: &'static str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Option<T> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(raw) => errors.check(parse(raw)),
        None => {
            if required {
                errors.push(FieldError::new(key, code, "This field is required."));
            }
            None
        }
    }
}
