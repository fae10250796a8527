//! Reading an account's roles, members and invitations.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::permission::{USERS_READ, USERS_WRITE};
use crate::domain::{
    AuditAction, AuditEvent, CustomRole, Delivery, FieldError, FieldErrors, InvitationId, InvitationStatus,
    MemberStatus, Permission, PermissionSet, ProfileInput, RoleName, UserId,
};
use crate::ports::{AuditQuery, InvitationQuery, MemberQuery, Page, PageRequest, StoreResult};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError, Claim};
use crate::service::support::export::{self, ExportFormat};
use crate::service::support::failure::store_failed;
use crate::service::support::failure::{InternalError, Invalid};
use crate::service::support::views::{InvitationView, MemberView, PageView};

/// A list's page size: what it is without `limit`, and the most `limit` may ask for.
#[derive(Clone, Copy)]
struct PageSize {
    default: usize,
    max: usize,
}

const LIST_PAGE: PageSize = PageSize { default: 50, max: 100 };
/// An export's page: one DynamoDB `Query`, which reads at most 1 MB, so a page of events
/// (about 0.5 KB each) renders far below Lambda's 6 MB response limit in either format.
const EXPORT_PAGE: PageSize = PageSize { default: 1000, max: 1000 };

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error("the cursor is invalid")]
    InvalidCursor,
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

crate::failure_codes!(DirectoryError {
    Invalid(_) => ValidationFailed,
    InvalidCursor => InvalidCursor,
    NotFound => NotFound,
    Internal(_) => Internal,
} delegating { Caller });

/// List parameters as the query string gives them.
#[derive(Debug, Default)]
pub struct ListParams {
    pub status: Option<String>,
    pub role: Option<String>,
    /// Invitations only: what became of the last mail.
    pub delivery: Option<String>,
    /// `q` for members, `email` for invitations.
    pub text: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// Audit events only: at or after this instant (RFC 3339).
    pub from: Option<String>,
    /// Audit events only: before this instant (RFC 3339).
    pub to: Option<String>,
    /// Audit events only: what happened.
    pub action: Option<String>,
    /// Audit events only: who did it.
    pub actor_id: Option<String>,
    /// Audit events only: what it happened to.
    pub target_id: Option<String>,
}

/// A page of the audit log as a file.
pub struct AuditExport {
    pub format: ExportFormat,
    pub body: String,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RoleView {
    pub name: RoleName,
    pub title: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub assignable_by_me: bool,
    /// The account's own role (`domain/role.rs`), not the marketplace's.
    pub custom: bool,
}

impl RoleView {
    /// The account's own role `role`, as `caller` sees it.
    pub fn custom(role: &CustomRole, caller: &Caller<'_>) -> Self {
        Self {
            name: role.name.clone(),
            title: role.title.clone(),
            description: role.description.clone(),
            permissions: role.permissions.to_strings(),
            assignable_by_me: assignable(caller, &role.permissions),
            custom: true,
        }
    }
}

/// Whether `caller` may grant a role of `permissions`.
fn assignable(caller: &Caller<'_>, permissions: &PermissionSet) -> bool {
    caller.permissions.allows(&USERS_WRITE) && caller.permissions.covers(permissions)
}

#[derive(Debug, Serialize)]
pub struct SectionView {
    pub section: String,
    pub title: String,
    pub permissions: [String; 2],
}

#[derive(Debug, Serialize)]
pub struct RolesView {
    pub items: Vec<RoleView>,
    pub permission_catalog: Vec<SectionView>,
    /// Whether the account may name roles of its own (its preset decides).
    pub custom_roles_allowed: bool,
    /// What the preset calls the account's owner ("Manager" on Ozon), for lists to show.
    pub owner_title: String,
    /// What an invitation asks of the person's profile: each field required, optional or hidden.
    pub profile_fields: BTreeMap<&'static str, &'static str>,
}

impl Teamgate {
    /// The preset's roles in the account's language, then the account's own, and which of them
    /// the caller may grant.
    pub fn roles(&self, caller: &Caller<'_>) -> RolesView {
        let locale = caller.user.locale.unwrap_or(caller.account.locale);
        let preset = caller.preset;
        let presets = preset.roles.iter().map(|role| RoleView {
            name: role.name.clone(),
            title: role.title.get(locale).to_owned(),
            description: role.description.get(locale).to_owned(),
            permissions: role.permissions.to_strings(),
            assignable_by_me: assignable(caller, &role.permissions),
            custom: false,
        });
        let own = caller.account.custom_roles.iter().map(|role| RoleView::custom(role, caller));
        RolesView {
            custom_roles_allowed: preset.custom_roles,
            owner_title: preset.owner_title.get(locale).to_owned(),
            profile_fields: preset.profile.fields(&ProfileInput::default()),
            items: presets.chain(own).collect(),
            permission_catalog: preset
                .sections
                .iter()
                .map(|s| SectionView {
                    section: s.id.clone(),
                    title: s.title.get(locale).to_owned(),
                    permissions: [Permission::read(&s.id).to_string(), Permission::write(&s.id).to_string()],
                })
                .collect(),
        }
    }

    /// The account's members, read with the caller: one round trip.
    pub async fn members(
        &self,
        claim: &Claim,
        params: ListParams,
    ) -> Result<PageView<MemberView>, DirectoryError> {
        let account = claim.account()?;
        let mut errors = FieldErrors::default();
        let status =
            params.status.as_deref().and_then(|raw| errors.check(parse_enum::<MemberStatus>("status", raw)));
        let role = params.role.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(RoleName::new);
        let query = MemberQuery { status, role, text: lowered(params.text) };
        let scope = format!("members\n{account}\n{query:?}");
        let page = self.page_request(&mut errors, &scope, LIST_PAGE, params.limit, params.cursor);
        let filtered = query.is_filtered();
        let (account, query) = (&account, &query);
        let list = |page: PageRequest| async move { self.store().members(account, query, &page).await };
        let (caller, found) = self.listed(claim, page, filtered, "members", list).await?;
        Ok(self.page_view(&scope, found, |m| MemberView::new(m, &caller.roles())))
    }

    /// One member: anyone reads their own membership; others' need `users:read` (the route
    /// admits any member). Read with the caller: one round trip.
    pub async fn member(&self, claim: &Claim, user_id: &str) -> Result<MemberView, DirectoryError> {
        let account = claim.account()?;
        let user_id = UserId::parse(user_id);
        let (caller, member) = self
            .caller_with_some(claim, user_id.as_ref(), async |user_id| {
                self.store().member(&account, user_id).await
            })
            .await?;
        if user_id.as_ref() != Some(&caller.user.id) {
            caller.require(&USERS_READ)?;
        }
        let member = member.map_err(store_failed("member"))?.flatten().ok_or(DirectoryError::NotFound)?;
        Ok(MemberView::new(&member, &caller.roles()))
    }

    /// The account's invitations, read with the caller: one round trip.
    pub async fn invitations(
        &self,
        claim: &Claim,
        params: ListParams,
    ) -> Result<PageView<InvitationView>, DirectoryError> {
        let account = claim.account()?;
        let mut errors = FieldErrors::default();
        let status = params
            .status
            .as_deref()
            .and_then(|raw| errors.check(parse_enum::<InvitationStatus>("status", raw)));
        let role = params.role.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(RoleName::new);
        let now = self.now();
        let delivery =
            params.delivery.as_deref().and_then(|raw| errors.check(parse_enum::<Delivery>("delivery", raw)));
        let query = InvitationQuery { status, role, email: lowered(params.text), delivery, now };
        let scope = format!(
            "invitations\n{account}\n{:?}\n{:?}\n{:?}\n{:?}",
            query.status, query.role, query.email, query.delivery
        );
        let page = self.page_request(&mut errors, &scope, LIST_PAGE, params.limit, params.cursor);
        let filtered = query.is_filtered();
        let (account, query) = (&account, &query);
        let list = |page: PageRequest| async move { self.store().invitations(account, query, &page).await };
        let (_, found) = self.listed(claim, page, filtered, "invitations", list).await?;
        Ok(self.page_view(&scope, found, |i| InvitationView::new(i, now)))
    }

    /// One invitation, read with the caller: one round trip.
    pub async fn invitation(&self, claim: &Claim, id: &str) -> Result<InvitationView, DirectoryError> {
        let account = claim.account()?;
        let id = InvitationId::parse(id);
        let (_, invitation) = self
            .caller_with_some(claim, id.as_ref(), async |id| self.store().invitation(&account, id).await)
            .await?;
        let invitation =
            invitation.map_err(store_failed("invitation"))?.flatten().ok_or(DirectoryError::NotFound)?;
        Ok(InvitationView::new(&invitation, self.now()))
    }

    /// The account's audit log, newest first; for those who may see its users. Read with the
    /// caller: one round trip.
    pub async fn audit_events(
        &self,
        claim: &Claim,
        params: ListParams,
    ) -> Result<PageView<AuditEvent>, DirectoryError> {
        let (scope, found) = self.audit_page(claim, params, LIST_PAGE, FieldErrors::default()).await?;
        Ok(self.page_view(&scope, found, AuditEvent::clone))
    }

    /// A page of the audit log as CSV or NDJSON, newest first, with the list's filters: what an
    /// auditor keeps. `format` is `csv` (the default) or `ndjson`.
    pub async fn export_audit_events(
        &self,
        claim: &Claim,
        params: ListParams,
        format: Option<&str>,
    ) -> Result<AuditExport, DirectoryError> {
        let mut errors = FieldErrors::default();
        let format = format.map_or(Some(ExportFormat::Csv), |raw| errors.check(parse_enum("format", raw)));
        let (scope, found) = self.audit_page(claim, params, EXPORT_PAGE, errors).await?;
        // A bad format was refused with the other fields.
        let format = format.unwrap_or_default();
        let page = self.page_view(&scope, found, AuditEvent::clone);
        Ok(AuditExport { format, body: export::render(format, &page.items), next_cursor: page.next_cursor })
    }

    /// A page of the audit log under the query `params` make, with its cursor's scope; `errors`
    /// holds what the caller's other fields did wrong. Read with the caller only when it is an
    /// unfiltered list's page.
    async fn audit_page(
        &self,
        claim: &Claim,
        params: ListParams,
        size: PageSize,
        mut errors: FieldErrors,
    ) -> Result<(String, Page<AuditEvent>), DirectoryError> {
        let account = claim.account()?;
        let instant = |field: &str, raw: Option<String>, errors: &mut FieldErrors| {
            raw.and_then(|raw| errors.check(parse_instant(field, &raw)))
        };
        // A window that ends before it starts is valid, and empty.
        let from = instant("from", params.from, &mut errors);
        let to = instant("to", params.to, &mut errors);
        let action =
            params.action.as_deref().and_then(|raw| errors.check(parse_enum::<AuditAction>("action", raw)));
        let actor = params.actor_id.as_deref().and_then(|raw| {
            errors.check(
                UserId::parse(&raw.trim().to_ascii_lowercase())
                    .ok_or_else(|| FieldError::new("actor_id", "invalid_value", "Use a user id.")),
            )
        });
        let target = params.target_id.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let query = AuditQuery { from, to, action, actor, target };
        let scope = format!("audit\n{account}\n{query:?}");
        let page = self.page_request(&mut errors, &scope, size, params.limit, params.cursor);
        // An export's page is ten times a list's: never read before the caller is judged.
        let filtered = query.is_filtered() || size.max > LIST_PAGE.max;
        let (account, query) = (&account, &query);
        let list = |page: PageRequest| async move { self.store().audit_events(account, query, &page).await };
        let (_, found) = self.listed(claim, page, filtered, "audit_events", list).await?;
        Ok((scope, found))
    }

    /// The caller and a page of `list`: read together when the page is bounded by its limit,
    /// and after the caller is judged when `filtered` (a filtered page may read up to 1 MB of the
    /// account's partition to fill itself, and a stranger must not make the account pay for
    /// that). The caller's refusal comes first, then the page request's, then the read's (a
    /// failure logged as `what`).
    async fn listed<T, Listing: Future<Output = StoreResult<Page<T>>>>(
        &self,
        claim: &Claim,
        page: Result<PageRequest, DirectoryError>,
        filtered: bool,
        what: &'static str,
        list: impl Fn(PageRequest) -> Listing,
    ) -> Result<(Caller<'_>, Page<T>), DirectoryError> {
        let together = page.as_ref().ok().filter(|_| !filtered);
        let (caller, found) =
            self.caller_with_some(claim, together, async |page| list(page.clone()).await).await?;
        let page = page?;
        let found = match found.map_err(store_failed(what))? {
            Some(found) => found,
            None => list(page).await.map_err(store_failed(what))?,
        };
        Ok((caller, found))
    }

    /// Validates `limit` and opens `cursor`; reports every bad field at once.
    fn page_request(
        &self,
        errors: &mut FieldErrors,
        scope: &str,
        size: PageSize,
        limit: Option<String>,
        cursor: Option<String>,
    ) -> Result<PageRequest, DirectoryError> {
        let limit = match limit.as_deref().map(str::parse::<usize>) {
            None => Some(size.default),
            Some(Ok(n)) if (1..=size.max).contains(&n) => Some(n),
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    "invalid_value",
                    format!("Use a number from 1 to {}.", size.max),
                ));
                None
            }
        };
        if !errors.is_empty() {
            return Err(Invalid(std::mem::take(errors)).into());
        }
        let after = cursor
            .map(|c| self.cursors.open(scope, &c).map_err(|_| DirectoryError::InvalidCursor))
            .transpose()?;
        Ok(PageRequest { limit: limit.unwrap_or(size.default), after })
    }

    fn page_view<T, V>(&self, scope: &str, page: Page<T>, view: impl Fn(&T) -> V) -> PageView<V> {
        PageView {
            items: page.items.iter().map(view).collect(),
            next_cursor: page.next.map(|position| self.cursors.seal(scope, &position)),
        }
    }
}

fn lowered(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty())
}

/// A query-string instant: RFC 3339, with its offset.
fn parse_instant(field: &str, raw: &str) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_rfc3339(raw).map(|at| at.to_utc()).map_err(|_| {
        FieldError::new(field, "invalid_value", "Use an RFC 3339 instant, such as 2026-01-31T00:00:00Z.")
    })
}

/// A query-string value that must be one of an enum's snake_case names.
fn parse_enum<T: serde::de::DeserializeOwned>(field: &str, raw: &str) -> Result<T, FieldError> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|_| FieldError::new(field, "invalid_value", format!("`{raw}` is not a valid {field}.")))
}
