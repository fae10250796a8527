//! The caller's own record: `GET /v1/me` and `PATCH /v1/me` (profile and language).

use crate::domain::{FieldError, FieldErrors, Locale, ProfileInput};
use crate::ports::{Conflict, ProfileUpdate, StoreError};
use crate::service::Teamgate;
use crate::service::caller::CallerError;
use crate::service::password_change::PasswordError;
use crate::service::support::access::Principal;
use crate::service::support::failure::{Invalid, store_failed};
use crate::service::support::views::MeView;

#[derive(Debug, Default)]
pub struct ProfileCommand {
    pub profile: ProfileInput,
    pub locale: Option<String>,
}

impl Teamgate {
    /// Edits the caller's name, phone and language, under their account's rules.
    pub async fn update_me(
        &self,
        principal: &Principal,
        command: ProfileCommand,
    ) -> Result<MeView, PasswordError> {
        let login = self.own_login(principal).await?;
        let preset = self.personal_preset(&login);
        let mut errors = FieldErrors::default();
        let profile = errors.check_all(preset.profile.parse(&command.profile, false));
        let locale = match command.locale.as_deref() {
            Some(raw) => errors.check(
                Locale::parse(raw)
                    .map(Some)
                    .ok_or_else(|| FieldError::new("locale", "invalid_value", "Use en, uk or pl.")),
            ),
            None => Some(login.user.locale),
        };
        let (Some(mut profile), Some(locale), true) = (profile, locale, errors.is_empty()) else {
            return Err(Invalid(errors).into());
        };
        let unique_phone = login.memberships.iter().any(|m| self.preset(&m.account.preset).phone_unique);
        profile.phone = profile.phone.filter(|p| login.user.phone.as_ref() != Some(p));
        let (claim_phone, release_phone) = match (&profile.phone, unique_phone) {
            (Some(phone), true) => (Some(phone.clone()), login.user.phone.clone()),
            _ => (None, None),
        };
        let user = login.user.clone().with_profile(profile, Some(locale));
        let update = ProfileUpdate {
            user,
            accounts: login.memberships.iter().map(|m| m.account.id.clone()).collect(),
            claim_phone,
            release_phone,
        };
        self.store().update_profile(&update).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::PhoneTaken) => PasswordError::PhoneTaken,
            StoreError::Conflict(_) => PasswordError::ConcurrentChange,
            other => store_failed("update_profile")(other).into(),
        })?;
        let memberships: Vec<_> = login
            .memberships
            .into_iter()
            .map(|mut m| {
                m.member = m.member.with_profile(&update.user);
                m
            })
            .collect();
        Ok(MeView::new(&update.user, self.membership_views(&memberships).await?))
    }

    pub async fn me(&self, principal: &Principal) -> Result<MeView, CallerError> {
        let login = self.signed_in_login(principal).await?;
        Ok(MeView::new(&login.user, self.membership_views(&login.memberships).await?))
    }
}
