//! Accounts: what creating one writes, and settings changes on the version read.

use std::sync::Arc;

use shared::ports::{AccountSummary, MemberUpdate, RolesCheck};

use super::*;

pub(crate) async fn a_new_account_reads_back_everywhere_it_is_written(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, owner, activation } = found_account(store.as_ref(), now).await;

    assert_eq!(store.account(&account.id).await.unwrap(), Some(account.clone()));
    assert_eq!(
        store.invitation(&account.id, &activation.invitation.id).await.unwrap(),
        Some(activation.invitation.clone())
    );
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), Some(activation.member.clone()));
    let caller = store
        .caller(&account.id, &owner.id, &SessionFamilyId::generate())
        .await
        .unwrap()
        .expect("the owner's caller record");
    assert_eq!(
        (caller.account, caller.user, caller.member),
        (account.clone(), owner.clone(), activation.member.clone())
    );
    assert!(
        store
            .caller(&AccountId::generate(), &owner.id, &SessionFamilyId::generate())
            .await
            .unwrap()
            .is_none()
    );

    for login in [
        store.login_by_email(&owner.email).await.unwrap().expect("found by email"),
        store.login_by_id(&owner.id).await.unwrap().expect("found by id"),
    ] {
        assert_eq!(login.user, owner);
        let memberships: Vec<_> = login.memberships.iter().map(|m| (&m.member, &m.account)).collect();
        assert_eq!(memberships, vec![(&activation.member, &AccountSummary::from(&account))]);
    }
    assert!(store.login_by_email(&unique_email("nobody")).await.unwrap().is_none());
    assert!(store.login_by_id(&UserId::generate()).await.unwrap().is_none());

    let redemption =
        store.redemption(&activation.token.hash, None).await.unwrap().expect("the link leads somewhere");
    assert_eq!(redemption.token, activation.token);
    assert_eq!(redemption.invitation, activation.invitation);
    assert_eq!(redemption.account, account);
    assert_eq!(redemption.user, Some(owner.clone()));
    assert_eq!(redemption.member, Some(activation.member.clone()));
    assert_eq!(store.user(&owner.id).await.unwrap(), Some(owner.clone()));
    assert!(store.user(&UserId::generate()).await.unwrap().is_none());
}

pub(crate) async fn a_settings_change_needs_the_account_version_it_read(store: Arc<dyn Store>) {
    let now = now();
    let founded = found_account(store.as_ref(), now).await;
    let read = founded.account.clone();
    let mut settings = read.settings.clone();
    settings.invitation_ttl_hours = Some(24);
    settings.blocked_email_domains = vec!["mailinator.com".into()];
    let settings_changed = event(&read.id, AuditAction::SettingsChanged, read.id.as_str(), now);

    // The owner activates after the settings were read: the change does not stand in its way,
    // and does not write back the owner link it read.
    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.expect("the owner is active");
    let current = read.clone().with_settings(settings.clone(), Locale::Pl);
    store.update_account_settings(&current, &settings_changed).await.expect("saved");
    let stored = store.account(&read.id).await.unwrap().expect("the account");
    let activated = accepted.account.clone().expect("the account as the owner left it");
    let expected =
        Account { settings: settings.clone(), locale: Locale::Pl, version: read.version + 1, ..activated };
    assert_eq!(stored, expected, "the owner's write and the settings' write both stand");
    assert_eq!((stored.owner_link, stored.owner_version), (None, read.owner_version + 1));

    // Another settings change based on the same read: refused, nothing written.
    let other_change = event(&read.id, AuditAction::SettingsChanged, read.id.as_str(), now);
    let stale = read.clone().with_settings(AccountSettings::default(), Locale::En);
    assert_eq!(conflict(store.update_account_settings(&stale, &other_change).await), Conflict::Stale);
    let after = store.account(&read.id).await.unwrap().expect("the account");
    assert_eq!((after.settings, after.locale), (settings, Locale::Pl));
    let events = store
        .audit_events(&read.id, &AuditQuery::default(), &PageRequest { limit: 100, after: None })
        .await
        .unwrap()
        .items;
    assert!(events.iter().all(|e| e.id != other_change.id), "no event of a refused change");
    assert!(events.iter().any(|e| e.id == settings_changed.id));

    let nowhere = Account {
        id: AccountId::generate(),
        ..current.clone().with_settings(AccountSettings::default(), Locale::En)
    };
    assert_eq!(conflict(store.update_account_settings(&nowhere, &settings_changed).await), Conflict::Stale);
}

/// Settings and the owner link are versioned apart: a settings change and an owner-link change
/// made from one read both succeed, whichever the store sees first, and each still conflicts
/// with another of its own kind made from that read.
pub(crate) async fn a_settings_change_and_an_owner_link_change_from_one_read_both_succeed(
    store: Arc<dyn Store>,
) {
    let now = now();
    for settings_first in [true, false, true, false] {
        let (_, _, read) = active_account(store.as_ref(), now).await;
        let mut settings = read.settings.clone();
        settings.invitation_ttl_hours = Some(48);
        let edited = read.clone().with_settings(settings.clone(), Locale::Pl);
        let edit_event = event(&read.id, AuditAction::SettingsChanged, read.id.as_str(), now);
        let recovery = owner_link_change(&read, owner_link(&read, "rescuer", now));
        let link = recovery.new_link.clone().expect("a new link");

        if settings_first {
            store.update_account_settings(&edited, &edit_event).await.expect("settings saved");
            store.change_owner_link(&recovery).await.expect("the owner link is not the settings'");
        } else {
            store.change_owner_link(&recovery).await.expect("the recovery link is out");
            store
                .update_account_settings(&edited, &edit_event)
                .await
                .expect("the settings are not the owner's");
        }
        let stored = store.account(&read.id).await.unwrap().expect("the account");
        assert_eq!(
            stored,
            Account {
                settings: settings.clone(),
                locale: Locale::Pl,
                version: read.version + 1,
                ..recovery.account.clone()
            }
        );
        assert!(stored.owner_link_is(&link.invitation.id));
        assert_eq!(stored.owner_version, read.owner_version + 1);
        let redemption = store.redemption(&link.token.hash, None).await.unwrap().expect("the new link works");
        assert_eq!(redemption.account, stored);

        // Each still conflicts with its own kind, based on the same read.
        let again = read.clone().with_settings(AccountSettings::default(), Locale::En);
        let again_event = event(&read.id, AuditAction::SettingsChanged, read.id.as_str(), now);
        assert_eq!(conflict(store.update_account_settings(&again, &again_event).await), Conflict::Stale);
        let rival = owner_link_change(&read, owner_link(&read, "rival", now));
        let rival_link = rival.new_link.clone().expect("a new link");
        assert_eq!(conflict(store.change_owner_link(&rival).await), Conflict::Stale);
        assert_eq!(store.account(&read.id).await.unwrap(), Some(stored));
        assert!(store.redemption(&rival_link.token.hash, None).await.unwrap().is_none(), "no rival link");
        assert!(store.user(&rival_link.member.user_id).await.unwrap().is_none(), "no rival user");
    }

    // And concurrently, from one read: both succeed.
    for _ in 0..4 {
        let (_, _, read) = active_account(store.as_ref(), now).await;
        let edited = read.clone().with_settings(AccountSettings::default(), Locale::Pl);
        let edit_event = event(&read.id, AuditAction::SettingsChanged, read.id.as_str(), now);
        let recovery = owner_link_change(&read, owner_link(&read, "rescuer", now));
        let (settings, owner) = {
            let (a, b) = (store.clone(), store.clone());
            let change = recovery.clone();
            tokio::join!(
                tokio::spawn(async move { a.update_account_settings(&edited, &edit_event).await }),
                tokio::spawn(async move { b.change_owner_link(&change).await }),
            )
        };
        settings.expect("no panic").expect("the settings change succeeds");
        owner.expect("no panic").expect("the owner-link change succeeds");
        let stored = store.account(&read.id).await.unwrap().expect("the account");
        assert_eq!((stored.locale, stored.version), (Locale::Pl, read.version + 1));
        assert_eq!(
            (&stored.owner_link, stored.owner_version),
            (&recovery.account.owner_link, read.owner_version + 1)
        );
    }
}

pub(crate) async fn an_invitation_takes_a_seat_only_under_the_seat_version_it_counted(store: Arc<dyn Store>) {
    // Given an account limited to three seats, its active owner's taken, and two invitations
    // drafted under the same count
    let now = now();
    let (_, _, account) = active_account(store.as_ref(), now).await;
    let before = account.seat_version;
    let changed = event(&account.id, AuditAction::SeatLimitChanged, account.id.as_str(), now);
    let limit = account.with_seat_limit(Some(3)).expect("a valid limit");
    store.set_seat_limit(&limit, &changed).await.expect("the limit is set");
    let limited = store.account(&limit.id).await.unwrap().expect("the account");
    assert_eq!((limited.max_members, limited.seat_version), (Some(3), before + 1));
    assert_eq!(store.seats_used(&limited.id, now).await.unwrap(), 1);
    let counted = SeatCheck { read_version: limited.seat_version, takes_seat: true };
    let draft = |name: &str| {
        let address = unique_email(name);
        let new = invitation(&limited, &address, InviteeUser::New(user(&address, now)), now);
        NewInvitation { seat: Some(counted), ..new }
    };
    let (first, second) = (draft("first"), draft("second"));

    // When both are written, then the first takes the seat and the second, counted alongside
    // it, finds the seats changed and writes nothing
    store.create_invitation(&first).await.expect("the first takes a seat");
    assert_eq!(conflict(store.create_invitation(&second).await), Conflict::Stale);
    let stored = store.account(&limited.id).await.unwrap().expect("the account");
    assert_eq!((stored.max_members, stored.seat_version), (Some(3), limited.seat_version + 1));
    assert_eq!(store.seats_used(&limited.id, now).await.unwrap(), 2);
    assert_eq!(store.login_by_email(&second.invitation.email).await.unwrap().map(|l| l.user.id), None);

    // And an invitee holds their seat for a grace after their link lapses, then no more
    let lapsed = first.invitation.expires_at + SEAT_GRACE;
    assert_eq!(store.seats_used(&limited.id, lapsed - Duration::seconds(1)).await.unwrap(), 2);
    assert_eq!(store.seats_used(&limited.id, lapsed).await.unwrap(), 1);

    // And a change of the limit makes an invitation counted before it count again
    let third = NewInvitation {
        seat: Some(SeatCheck { read_version: stored.seat_version, takes_seat: true }),
        ..draft("third")
    };
    store.set_seat_limit(&limited.with_seat_limit(None).expect("no limit"), &changed).await.expect("lifted");
    assert_eq!(conflict(store.create_invitation(&third).await), Conflict::Stale);
    assert_eq!(store.account(&third.account.id).await.unwrap().map(|a| a.max_members), Some(None));
}

pub(crate) async fn a_write_judged_under_the_accounts_own_roles_needs_them_as_read(store: Arc<dyn Store>) {
    // Given an account that named a role of its own, and a member
    let now = now();
    let (_, _, account) = active_account(store.as_ref(), now).await;
    let content = shared::domain::RoleContent {
        title: "Packer".into(),
        description: String::new(),
        permissions: PermissionSet::default(),
    };
    let preset = shared::domain::Presets::compiled().get(&account.preset).expect("the preset");
    let named = account.clone().with_new_role(preset, RoleName::new("packer"), content, now).expect("named");
    let created = event(&account.id, AuditAction::RoleCreated, "packer", now);
    store.save_roles(&named, &created).await.expect("the roles as read");
    assert_eq!(conflict(store.save_roles(&named, &created).await), Conflict::Stale, "saved twice");
    let version = store.account(&account.id).await.unwrap().expect("the account").roles_version;
    let member = active_member(store.as_ref(), &account, "packer", now).await.member;
    let update = |member: Member, read_version: u32, raises: bool| MemberUpdate {
        event: event(&account.id, AuditAction::MemberRolesChanged, member.user_id.as_str(), now),
        member,
        roles: Some(RolesCheck { read_version, raises }),
    };

    // When a grant of it is written under the roles as read, then it raises their version
    let granted =
        member.clone().regranted(Grant { roles: vec![RoleName::new("packer")], ..Grant::default() });
    store.update_member(&update(granted.clone(), version, true)).await.expect("granted");
    let raised = store.account(&account.id).await.unwrap().expect("the account").roles_version;
    assert_eq!(raised, version + 1);

    // And a write judged under the version before is refused, and writes nothing
    let blocked = granted.clone().blocked(now);
    assert_eq!(
        conflict(store.update_member(&update(blocked.clone(), version, false)).await),
        Conflict::Stale
    );
    assert_eq!(store.member(&account.id, &granted.user_id).await.unwrap(), Some(granted));

    // And one judged under the current version only checks it
    store.update_member(&update(blocked, raised, false)).await.expect("blocked");
    assert_eq!(store.account(&account.id).await.unwrap().expect("the account").roles_version, raised);
}
