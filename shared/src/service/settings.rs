//! The account's settings: the invitation lifetime, refused email domains, language and
//! two-step policy.

use crate::domain::{AuditAction, AuditTarget, FieldError, FieldErrors, Locale, MfaPolicy};
use crate::service::Teamgate;
use crate::service::caller::Caller;
use crate::service::members::{MemberError, write_failed};
use crate::service::support::failure::Invalid;
use crate::service::support::views::AccountView;
use serde_json::json;

const MAX_BLOCKED_DOMAINS: usize = 100;

#[derive(Debug, Default)]
pub struct SettingsCommand {
    pub invitation_ttl_hours: Option<u32>,
    pub blocked_email_domains: Option<Vec<String>>,
    pub locale: Option<String>,
    pub mfa: Option<String>,
}

impl Teamgate {
    /// Changes the account's invitation lifetime, refused domains and language.
    pub async fn update_settings(
        &self,
        caller: &Caller<'_>,
        command: SettingsCommand,
    ) -> Result<AccountView, MemberError> {
        let mut errors = FieldErrors::default();
        let mut settings = caller.account.settings.clone();
        let mut locale = caller.account.locale;
        if let Some(hours) = command.invitation_ttl_hours {
            match settings.clone().with_invitation_ttl_hours(hours, caller.preset) {
                Ok(shorter) => settings = shorter,
                Err(refused) => errors.push(refused),
            }
        }
        if let Some(domains) = command.blocked_email_domains {
            match parse_domains(&domains) {
                Some(domains) => settings.blocked_email_domains = domains,
                None => errors.push(FieldError::new(
                    "blocked_email_domains",
                    "invalid_value",
                    format!(
                        "List up to {MAX_BLOCKED_DOMAINS} domains or suffixes such as example.com or .su."
                    ),
                )),
            }
        }
        if let Some(raw) = command.locale {
            match Locale::parse(&raw) {
                Some(parsed) => locale = parsed,
                None => errors.push(FieldError::new("locale", "invalid_value", "Use en, uk or pl.")),
            }
        }
        if let Some(raw) = command.mfa {
            match mfa_policy(&raw, caller) {
                Ok(policy) => match settings.clone().with_mfa(policy, caller.preset) {
                    Ok(raised) => settings = raised,
                    Err(refused) => errors.push(refused),
                },
                Err(refused) => errors.push(refused),
            }
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        caller.require_recent_second_step(self.now())?;
        let account = caller.account.clone().with_settings(settings, locale);
        let event = self.event(
            &account.id,
            Some(&caller.user.id),
            AuditAction::SettingsChanged,
            AuditTarget::Account,
            account.id.as_str(),
            json!({ "settings": account.settings, "locale": account.locale }),
        );
        self.store().update_account_settings(&account, &event).await.map_err(write_failed)?;
        Ok(AccountView::new(&account, caller.preset))
    }
}

/// A two-step policy as typed. Requiring it asks the caller to have it first: an owner who
/// required it without would lock themselves out of their own account.
fn mfa_policy(raw: &str, caller: &Caller<'_>) -> Result<MfaPolicy, FieldError> {
    let policy = match raw {
        "off" => MfaPolicy::Off,
        "optional" => MfaPolicy::Optional,
        "required" => MfaPolicy::Required,
        _ => return Err(FieldError::new("mfa", "invalid_value", "Use off, optional or required.")),
    };
    if policy == MfaPolicy::Required && !caller.user.has_second_factor() {
        return Err(FieldError::new(
            "mfa",
            "invalid_value",
            "Turn on two-step verification for yourself before requiring it of everyone.",
        ));
    }
    Ok(policy)
}

/// Refused domains as typed: trimmed, lowercase, punycode, a leading dot kept as a suffix marker.
fn parse_domains(raw: &[String]) -> Option<Vec<String>> {
    if raw.len() > MAX_BLOCKED_DOMAINS {
        return None;
    }
    raw.iter()
        .map(|entry| {
            let entry = entry.trim().to_lowercase();
            let (dot, name) = entry.strip_prefix('.').map_or(("", entry.as_str()), |rest| (".", rest));
            let ascii = idna::domain_to_ascii(name).ok().filter(|d| {
                !d.is_empty()
                    && d.split('.')
                        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            })?;
            Some(format!("{dot}{ascii}"))
        })
        .collect()
}
