//! Roles an account names itself (issue 16): made of its preset's catalog by someone with
//! `users:write` holding every permission they give, and granted like the preset's own roles.
//! `Roles` is what an account grants: its preset's roles and its own, in one place.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::locale::Locale;
use super::permission::{Permission, PermissionSet, RoleName};
use super::preset::{Grant, Preset};
use super::validation::{FieldError, FieldErrors, not_one_of, plain_text};

/// The most roles one account may name: they live on the account's item, which every request
/// of the account reads.
pub const MAX_CUSTOM_ROLES: usize = 50;
const NAME_CHARS: std::ops::RangeInclusive<usize> = 2..=40;
const TITLE_CHARS: usize = 60;
const DESCRIPTION_CHARS: usize = 300;

/// A role the account made: its `name` is what grants name and never changes (members keep
/// holding it through a rename); its title and description are in the account's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomRole {
    pub name: RoleName,
    pub title: String,
    pub description: String,
    pub permissions: PermissionSet,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A role's title, description and permissions as a request gives them, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleContent {
    pub title: String,
    pub description: String,
    pub permissions: PermissionSet,
}

impl RoleContent {
    /// A title of 1 to 60 characters and a description of at most 300, both without control
    /// characters, and at least one permission of `preset`'s catalog.
    pub fn parse(
        preset: &Preset,
        title: &str,
        description: &str,
        permissions: &[String],
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(text("title", title, 1, TITLE_CHARS));
        let description = errors.check(text("description", description, 0, DESCRIPTION_CHARS));
        let permissions = errors.check_all(catalog_permissions(preset, permissions));
        if permissions.as_ref().is_some_and(PermissionSet::is_empty) {
            errors.push(FieldError::new("permissions", "required", "Give the role at least one permission."));
        }
        errors.finish(|| Self {
            title: title.unwrap_or_default(),
            description: description.unwrap_or_default(),
            permissions: permissions.unwrap_or_default(),
        })
    }
}

/// A new role's name: 2 to 40 of `a-z`, `0-9`, `_`, starting with a letter, as the presets name theirs.
pub fn role_name(raw: &str) -> Result<RoleName, FieldError> {
    let mut chars = raw.chars();
    let shaped = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !shaped || !NAME_CHARS.contains(&raw.len()) {
        let message = "Use 2 to 40 lowercase letters, digits or _, starting with a letter.";
        return Err(FieldError::new("name", "invalid_value", message));
    }
    Ok(RoleName::new(raw))
}

fn text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let text = plain_text(raw, min..=max).map(str::to_owned);
    let message = match min {
        0 => format!("Use at most {max} characters, without control characters."),
        _ => format!("Use {min} to {max} characters, without control characters."),
    };
    text.ok_or_else(|| FieldError::new(field, "invalid_value", message))
}

/// `raw` as permissions of `preset`'s catalog; the ones it does not know are one field error.
fn catalog_permissions(preset: &Preset, raw: &[String]) -> Result<PermissionSet, FieldErrors> {
    let sections: BTreeSet<&str> = preset.sections.iter().map(|s| s.id.as_str()).collect();
    let mut permissions = PermissionSet::default();
    let mut unknown = Vec::new();
    for raw in raw {
        match Permission::parse(raw) {
            Ok(p) if sections.contains(p.section.as_ref()) => permissions.insert(p),
            _ => unknown.push(raw.as_str()),
        }
    }
    if unknown.is_empty() {
        return Ok(permissions);
    }
    let message = format!("{} of this account.", not_one_of(&unknown, "a permission"));
    Err(FieldError::new("permissions", "unknown_permission", message).into())
}

/// Why a grant cannot be given.
#[derive(Debug)]
pub enum GrantRefusal {
    /// A role it names is no longer one of the account's (deleted since the grant was made).
    Gone(FieldErrors),
    /// It gives more than the granter holds.
    Escalation,
}

/// What an account grants: its preset's roles, then its own.
#[derive(Clone, Copy, Debug)]
pub struct Roles<'a> {
    pub preset: &'a Preset,
    pub custom: &'a [CustomRole],
}

impl<'a> Roles<'a> {
    /// The permissions of the role `name`, the preset's or the account's.
    pub fn permissions_of(&self, name: &RoleName) -> Option<&'a PermissionSet> {
        let preset = self.preset.role(name).map(|role| &role.permissions);
        preset.or_else(|| self.custom(name).map(|role| &role.permissions))
    }

    /// The account's own role `name`.
    pub fn custom(&self, name: &RoleName) -> Option<&'a CustomRole> {
        self.custom.iter().find(|role| &role.name == name)
    }

    /// Whether `name` is taken, by the preset's roles or the account's.
    pub fn knows(&self, name: &RoleName) -> bool {
        self.permissions_of(name).is_some()
    }

    /// The role's title in `locale` (the account's own roles have one title); a role no longer
    /// known shows its name.
    pub fn title(&self, name: &RoleName, locale: Locale) -> String {
        match (self.preset.role(name), self.custom(name)) {
            (Some(role), _) => role.title.get(locale).to_owned(),
            (None, Some(role)) => role.title.clone(),
            (None, None) => name.to_string(),
        }
    }

    /// Whether `grant` names any of the account's own roles: its write must then find them as
    /// they were read (`Account::roles_version`).
    pub fn names_custom(&self, grant: &Grant) -> bool {
        grant.roles.iter().any(|name| self.custom(name).is_some())
    }

    /// The union of the roles' permissions and the direct grants.
    pub fn effective(&self, grant: &Grant) -> PermissionSet {
        let mut effective = grant.permissions.clone();
        for permissions in grant.roles.iter().filter_map(|name| self.permissions_of(name)) {
            effective.extend(permissions);
        }
        effective
    }

    /// Whether someone holding `held` may give `grant` (parsed before, so its roles may have
    /// gone since): every role it names is still known and it gives nothing beyond `held`.
    pub fn judge(&self, grant: &Grant, held: &PermissionSet) -> Result<(), GrantRefusal> {
        let gone: Vec<&str> =
            grant.roles.iter().filter(|name| !self.knows(name)).map(RoleName::as_str).collect();
        if !gone.is_empty() {
            let message = format!("{} of this account.", not_one_of(&gone, "a role"));
            return Err(GrantRefusal::Gone(FieldError::new("roles", "unknown_role", message).into()));
        }
        if !held.covers(&self.effective(grant)) {
            return Err(GrantRefusal::Escalation);
        }
        Ok(())
    }

    /// Parses role names and permission strings from a request into a grant of this account.
    /// The names it does not know are one field error per field, however many there are.
    pub fn parse_grant(&self, roles: &[String], permissions: &[String]) -> Result<Grant, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut grant = Grant::default();
        let mut unknown_roles = Vec::new();
        for raw in roles {
            let name = RoleName::new(raw);
            match self.knows(&name) {
                true if grant.roles.contains(&name) => {}
                true => grant.roles.push(name),
                false => unknown_roles.push(raw.as_str()),
            }
        }
        if !unknown_roles.is_empty() {
            let message = format!("{} of this account.", not_one_of(&unknown_roles, "a role"));
            errors.push(FieldError::new("roles", "unknown_role", message));
        }
        if let Some(direct) = errors.check_all(catalog_permissions(self.preset, permissions)) {
            grant.permissions = direct;
        }
        errors.finish(|| grant)
    }
}

/// `grant` with the role `gone` replaced by `replacement` (once, where it was first named).
pub fn replaced(grant: &Grant, gone: &RoleName, replacement: &RoleName) -> Grant {
    let mut roles: Vec<RoleName> = Vec::new();
    for name in &grant.roles {
        let name = if name == gone { replacement } else { name };
        if !roles.contains(name) {
            roles.push(name.clone());
        }
    }
    Grant { roles, permissions: grant.permissions.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Presets;

    fn standard() -> &'static Preset {
        Presets::compiled().get("standard").unwrap()
    }

    fn packer(at: DateTime<Utc>) -> CustomRole {
        CustomRole {
            name: RoleName::new("packer"),
            title: "Packer".into(),
            description: String::new(),
            permissions: [Permission::write("orders")].into_iter().collect(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn an_accounts_own_role_grants_like_a_presets_and_an_unknown_one_grants_nothing() {
        let custom = [packer(Utc::now())];
        let roles = Roles { preset: standard(), custom: &custom };

        let grant = roles.parse_grant(&["packer".into(), "viewer".into()], &[]).unwrap();

        assert!(roles.names_custom(&grant));
        assert!(roles.effective(&grant).allows(&Permission::write("orders")));
        let error = roles.parse_grant(&["stranger".into()], &[]).unwrap_err().into_vec();
        assert_eq!((error[0].field.as_str(), error[0].code), ("roles", "unknown_role"));
        let gone = Grant { roles: vec![RoleName::new("gone")], permissions: PermissionSet::default() };
        assert!(roles.effective(&gone).is_empty());
    }

    #[test]
    fn a_role_is_named_in_lowercase_titled_in_sixty_characters_and_gives_something() {
        assert!(role_name("warehouse_night_2").is_ok());
        for bad in ["W", "x", "2nd", "with space", "night-shift", &"a".repeat(41)] {
            assert_eq!(role_name(bad).unwrap_err().code, "invalid_value", "{bad}");
        }
        let codes = |errors: FieldErrors| errors.into_vec().into_iter().map(|e| e.code).collect::<Vec<_>>();
        let none = RoleContent::parse(standard(), " ", "", &[]).unwrap_err();
        assert_eq!(codes(none), ["invalid_value", "required"]);
        let long = RoleContent::parse(standard(), &"t".repeat(61), "a\u{7}", &["nowhere:read".into()]);
        assert_eq!(codes(long.unwrap_err()), ["invalid_value", "invalid_value", "unknown_permission"]);
    }

    #[test]
    fn a_replacement_takes_the_gone_roles_place_once() {
        let grant = Grant {
            roles: vec![RoleName::new("a"), RoleName::new("gone"), RoleName::new("b")],
            permissions: PermissionSet::default(),
        };
        let moved = replaced(&grant, &RoleName::new("gone"), &RoleName::new("a"));
        assert_eq!(moved.roles, [RoleName::new("a"), RoleName::new("b")]);
    }
}
