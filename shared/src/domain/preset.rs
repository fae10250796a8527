//! Presets: each marketplace's catalog, invitation mode and rules, as data compiled into the binary.
//! A marketplace adds its own by adding a file to `shared/presets/` and a line to `BUILTIN`.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::email::Email;
use super::locale::{Locale, Localized};
use super::password::{PasswordPolicy, SHORTEST_CHECKED};
use super::permission::{Permission, PermissionSet, RoleName};
use super::profile::ProfileRules;

const BUILTIN: [(&str, &str); 6] = [
    ("standard", include_str!("../../presets/standard.toml")),
    ("ozon", include_str!("../../presets/ozon.toml")),
    ("ua-marketplace", include_str!("../../presets/ua-marketplace.toml")),
    ("amazon-associates", include_str!("../../presets/amazon-associates.toml")),
    ("amazon-seller", include_str!("../../presets/amazon-seller.toml")),
    ("joom", include_str!("../../presets/joom.toml")),
];

/// Whether an account's members sign in with a second step. Ordered: an account's owner may
/// raise their preset's policy (`AccountSettings::with_mfa`), never lower it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// Not offered to the account's members.
    Off,
    /// Each person may turn it on.
    Optional,
    /// A member without it can do nothing in the account but enroll.
    Required,
}

impl MfaPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }
}

/// How an invitee becomes a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationMode {
    /// Listed `not_activated` until the emailed link is used.
    Invitation,
    /// Active at once; the emailed link only sets the first password.
    Direct,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: Localized,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: RoleName,
    pub title: Localized,
    pub description: Localized,
    pub permissions: PermissionSet,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub id: String,
    pub name: String,
    pub default_locale: Locale,
    pub mode: InvitationMode,
    pub invitation_ttl_hours: u32,
    pub resend_limit_per_hour: u32,
    pub email_unique_across_accounts: bool,
    pub phone_unique: bool,
    pub blocked_email_domain_suffixes: Vec<String>,
    pub mfa: MfaPolicy,
    /// Whether an account may name its own roles (`role.rs`); amazon-seller grants permissions
    /// one by one and has none.
    pub custom_roles: bool,
    pub former_owner_role: Option<RoleName>,
    #[serde(default)]
    pub former_owner_permissions: PermissionSet,
    pub owner_title: Localized,
    pub profile: ProfileRules,
    pub password: PasswordPolicy,
    pub sections: Vec<Section>,
    pub roles: Vec<Role>,
}

/// What an invitation or a role change grants, checked against the catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    pub roles: Vec<RoleName>,
    pub permissions: PermissionSet,
}

impl Grant {
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.permissions.is_empty()
    }
}

impl Preset {
    pub fn role(&self, name: &RoleName) -> Option<&Role> {
        self.roles.iter().find(|role| &role.name == name)
    }

    /// Every permission of the catalog: what the owner holds.
    pub fn catalog(&self) -> PermissionSet {
        self.sections.iter().map(|s| Permission::write(&s.id)).collect()
    }

    /// Whether the preset refuses addresses of this domain (Ozon: `.co`, `.su`).
    pub fn refuses_domain(&self, email: &Email, extra: &[String]) -> bool {
        let domain = email.domain();
        self.blocked_email_domain_suffixes.iter().chain(extra).any(|blocked| {
            let blocked = blocked.trim_start_matches('.').to_ascii_lowercase();
            domain == blocked || domain.ends_with(&format!(".{blocked}"))
        })
    }

    fn validate(&self) -> Result<(), String> {
        let catalog = self.catalog();
        let mut names = BTreeSet::new();
        for role in &self.roles {
            if !names.insert(role.name.clone()) {
                return Err(format!("role {} is listed twice", role.name));
            }
            if !catalog.covers(&role.permissions) {
                return Err(format!("role {} names a section outside the catalog", role.name));
            }
        }
        if let Some(role) = &self.former_owner_role
            && self.role(role).is_none()
        {
            return Err(format!("former_owner_role {role} is not a role"));
        }
        if !catalog.covers(&self.former_owner_permissions) {
            return Err("former_owner_permissions name a section outside the catalog".into());
        }
        if self.sections.len() != self.sections.iter().map(|s| &s.id).collect::<BTreeSet<_>>().len() {
            return Err("a section is listed twice".into());
        }
        if self.password.min_length == 0 || self.password.min_length > self.password.max_length {
            return Err("password lengths are inconsistent".into());
        }
        if self.password.refuse_common && self.password.min_length < SHORTEST_CHECKED {
            return Err(format!(
                "a policy that refuses common passwords needs min_length of at least {SHORTEST_CHECKED}"
            ));
        }
        Ok(())
    }
}

/// Every preset this deployment knows, by id.
#[derive(Debug)]
pub struct Presets(BTreeMap<String, Preset>);

#[derive(Debug, thiserror::Error)]
#[error("preset {id}: {reason}")]
pub struct InvalidPreset {
    pub id: String,
    pub reason: String,
}

impl Presets {
    /// The presets compiled in, parsed at first use: a function's cold start does not wait for
    /// them, and one that never reads them (the pages and the JWKS) never parses them.
    pub fn compiled() -> &'static Self {
        static PRESETS: std::sync::LazyLock<Presets> = std::sync::LazyLock::new(|| {
            Presets::builtin().expect("the compiled presets are valid (tests below)")
        });
        &PRESETS
    }

    /// Whether `id` names a compiled preset, known without parsing any.
    pub fn is_compiled(id: &str) -> bool {
        BUILTIN.iter().any(|(known, _)| *known == id)
    }

    fn builtin() -> Result<Self, InvalidPreset> {
        let mut presets = BTreeMap::new();
        for (id, text) in BUILTIN {
            let invalid = |reason: String| InvalidPreset { id: id.to_owned(), reason };
            let preset: Preset = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
            if preset.id != id {
                return Err(invalid(format!("declares id {}", preset.id)));
            }
            preset.validate().map_err(invalid)?;
            presets.insert(id.to_owned(), preset);
        }
        Ok(Self(presets))
    }

    pub fn get(&self, id: &str) -> Option<&Preset> {
        self.0.get(id)
    }

    /// Every permission some preset defines: what a marketplace's route map may ask for.
    pub fn catalog(&self) -> PermissionSet {
        let mut catalog = PermissionSet::default();
        for preset in self.0.values() {
            catalog.extend(&preset.catalog());
        }
        catalog
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Roles;

    fn presets() -> Presets {
        Presets::builtin().expect("every builtin preset is valid")
    }

    fn strings(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn all_six_presets_load() {
        let presets = presets();
        let ids: Vec<&str> = presets.ids().collect();
        assert_eq!(ids, ["amazon-associates", "amazon-seller", "joom", "ozon", "standard", "ua-marketplace"]);
    }

    #[test]
    fn ozon_product_manager_has_exactly_the_documented_rights() {
        let presets = presets();
        let ozon = presets.get("ozon").unwrap();
        let grant =
            Roles { preset: ozon, custom: &[] }.parse_grant(&strings(&["product_manager"]), &[]).unwrap();
        assert_eq!(
            Roles { preset: ozon, custom: &[] }.effective(&grant).to_strings(),
            ["analytics:read", "prices:write", "products:write"]
        );
        assert_eq!(ozon.invitation_ttl_hours, 24);
    }

    #[test]
    fn ozon_refuses_co_and_su_domains_but_not_com() {
        let presets = presets();
        let ozon = presets.get("ozon").unwrap();
        let refused = |raw: &str| ozon.refuses_domain(&Email::parse(raw).unwrap(), &[]);
        assert!(refused("anna@shop.su"));
        assert!(refused("anna@shop.co"));
        assert!(!refused("anna@shop.com"));
        assert!(!refused("anna@shop.example"));
    }

    #[test]
    fn unknown_roles_and_permissions_are_field_errors() {
        let presets = presets();
        let joom = presets.get("joom").unwrap();
        let errors = Roles { preset: joom, custom: &[] }
            .parse_grant(&strings(&["operations", "wizard"]), &strings(&["moon:write"]))
            .unwrap_err();
        let codes: Vec<_> = errors.into_vec().into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            codes,
            [("roles".to_owned(), "unknown_role"), ("permissions".to_owned(), "unknown_permission")]
        );
    }

    #[test]
    fn a_policy_that_refuses_common_passwords_allows_none_shorter_than_the_list_checks() {
        let mut standard = presets().get("standard").unwrap().clone();
        standard.password.min_length = SHORTEST_CHECKED - 1;
        assert!(standard.validate().unwrap_err().contains("min_length"));
        standard.password.refuse_common = false;
        assert_eq!(standard.validate(), Ok(()));
    }

    #[test]
    fn joom_roles_combine() {
        let presets = presets();
        let joom = presets.get("joom").unwrap();
        let grant = Roles { preset: joom, custom: &[] }
            .parse_grant(&strings(&["operations", "finance"]), &[])
            .unwrap();
        let effective = Roles { preset: joom, custom: &[] }.effective(&grant);
        assert!(effective.allows(&Permission::write("orders")));
        assert!(effective.allows(&Permission::write("invoices")));
        assert!(!effective.allows(&Permission::read("kyc_documents")));
    }

    #[test]
    fn unknown_names_are_one_short_error_however_many_there_are() {
        let presets = presets();
        let preset = presets.get("standard").expect("standard");
        let many: Vec<String> = (0..10_000).map(|n| format!("role{n}")).chain(["x".repeat(500)]).collect();
        let errors = Roles { preset, custom: &[] }.parse_grant(&many, &[]).unwrap_err().into_vec();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("and 9996 more are not roles"), "{}", errors[0].message);
        assert!(errors[0].message.len() < 500, "{}", errors[0].message);
        let one = Roles { preset, custom: &[] }
            .parse_grant(&["nope".into(), "nope".into()], &[])
            .unwrap_err()
            .into_vec();
        assert_eq!(one[0].message, "`nope` is not a role of this account.");
    }
}
