//! Permissions (`section:level`), roles, and the escalation rule.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use super::validation::FieldError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Read,
    Write,
}

/// One right on one section; `write` implies `read`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub section: Cow<'static, str>,
    pub level: Level,
}

/// Reading the team: members, invitations, the audit log. Enforced by Teamgate itself, like
/// `USERS_WRITE`; every other permission is the marketplace's to enforce.
pub const USERS_READ: Permission = Permission { section: Cow::Borrowed("users"), level: Level::Read };

/// Administering the team: inviting, revoking, resending, changing roles, blocking, deleting,
/// and the account's settings.
pub const USERS_WRITE: Permission = Permission { section: Cow::Borrowed("users"), level: Level::Write };

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a permission of the form section:read or section:write")]
pub struct MalformedPermission(pub String);

impl Permission {
    pub fn parse(raw: &str) -> Result<Self, MalformedPermission> {
        let malformed = || MalformedPermission(raw.to_owned());
        let (section, level) = raw.split_once(':').ok_or_else(malformed)?;
        let level = match level {
            "read" => Level::Read,
            "write" => Level::Write,
            _ => return Err(malformed()),
        };
        if section.is_empty() || !section.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(malformed());
        }
        Ok(Self { section: Cow::Owned(section.to_owned()), level })
    }

    pub fn write(section: &str) -> Self {
        Self { section: Cow::Owned(section.to_owned()), level: Level::Write }
    }

    pub fn read(section: &str) -> Self {
        Self { section: Cow::Owned(section.to_owned()), level: Level::Read }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Read => "read",
            Level::Write => "write",
        };
        write!(f, "{}:{}", self.section, level)
    }
}

/// A set of permissions, normalized to the highest level per section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PermissionSet(BTreeMap<String, Level>);

impl PermissionSet {
    pub fn insert(&mut self, permission: Permission) {
        let level = self.0.entry(permission.section.into_owned()).or_insert(permission.level);
        *level = (*level).max(permission.level);
    }

    pub fn extend(&mut self, other: &PermissionSet) {
        for permission in other.iter() {
            self.insert(permission);
        }
    }

    pub fn allows(&self, wanted: &Permission) -> bool {
        self.0.get(wanted.section.as_ref()).is_some_and(|held| *held >= wanted.level)
    }

    /// The permissions of `wanted` not held here, in the order asked: what a refusal names.
    pub fn missing<'w>(&self, wanted: &'w [Permission]) -> Vec<&'w Permission> {
        wanted.iter().filter(|p| !self.allows(p)).collect()
    }

    /// Whether every permission of `other` is held here: the escalation rule's test.
    pub fn covers(&self, other: &PermissionSet) -> bool {
        other.iter().all(|p| self.allows(&p))
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0
            .iter()
            .map(|(section, level)| Permission { section: Cow::Owned(section.clone()), level: *level })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.iter().map(|p| p.to_string()).collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Self::default();
        for permission in iter {
            set.insert(permission);
        }
        set
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_strings().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|raw| Permission::parse(raw).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// A role's identifier within a preset (`product_manager`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleName(String);

impl RoleName {
    pub fn new(name: &str) -> Self {
        Self(name.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<MalformedPermission> for FieldError {
    fn from(e: MalformedPermission) -> Self {
        FieldError::new("permissions", "unknown_permission", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(raw: &[&str]) -> PermissionSet {
        raw.iter().map(|p| Permission::parse(p).unwrap()).collect()
    }

    #[test]
    fn write_implies_read_and_sets_keep_the_highest_level() {
        let held = set(&["products:read", "products:write", "analytics:read"]);
        assert_eq!(held.to_strings(), ["analytics:read", "products:write"]);
        assert!(held.allows(&Permission::read("products")));
        assert!(!held.allows(&Permission::write("analytics")));
    }

    #[test]
    fn covers_is_the_escalation_test() {
        let manager = set(&["products:write", "prices:write", "analytics:read"]);
        assert!(manager.covers(&set(&["products:read", "prices:write"])));
        assert!(!manager.covers(&set(&["analytics:write"])));
        assert!(!manager.covers(&set(&["users:read"])));
    }

    #[test]
    fn missing_names_what_is_not_held_in_the_order_asked() {
        let held = set(&["orders:write", "products:read"]);
        let wanted: Vec<Permission> =
            ["products:write", "orders:read", "finance:read"].map(|p| Permission::parse(p).unwrap()).into();
        let missing: Vec<String> = held.missing(&wanted).iter().map(|p| p.to_string()).collect();
        assert_eq!(missing, ["products:write", "finance:read"]);
    }

    #[test]
    fn malformed_permissions_are_refused() {
        for raw in ["products", "products:admin", ":read", "Products:read", "pro ducts:read"] {
            assert!(Permission::parse(raw).is_err(), "{raw}");
        }
    }
}
