//! DynamoDB only: what failed writes leave behind, and what every store method costs in round
//! trips.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;

use shared::ports::{DeliveryReport, MemberUpdate, PasswordChange, ProfileUpdate, Resend, Withdrawal};
use tests::emulators::{DynamoCalls, counted_dynamo_store, snapshot};

use super::*;

pub(crate) async fn dynamodb_failed_writes_leave_no_orphan_items() {
    let store = dynamo_store().await;
    let now = now();
    let Founded { account, owner, activation } = found_account(&store, now).await;
    let number = phone(&format!("+38063{:07}", rand_digits()));
    let address = unique_email("holder");
    let mut holder = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    holder.claim_phone = Some(number.clone());
    store.create_invitation(&holder).await.expect("written");
    let before = snapshot(&store).await;

    let other = found_account(&store, now).await;
    let before_other = snapshot(&store).await;
    assert!(before.is_subset(&before_other));

    let mut duplicate_email =
        invitation(&other.account, &address, InviteeUser::New(user(&address, now)), now);
    duplicate_email.claim_phone = Some(phone(&format!("+38066{:07}", rand_digits())));
    let address = unique_email("phone");
    let mut duplicate_phone =
        invitation(&other.account, &address, InviteeUser::New(user(&address, now)), now);
    duplicate_phone.claim_phone = Some(number);
    let duplicate_member = invitation(&account, &owner.email, existing(&store, &owner.id).await, now);
    let ghost = unique_email("ghost");
    let ghost_user =
        invitation(&other.account, &ghost, InviteeUser::Existing(user(&ghost, now).joined()), now);
    let stale_user = invitation(&other.account, &owner.email, InviteeUser::Existing(owner.clone()), now);
    for (new, expected) in [
        (duplicate_email, Conflict::EmailTaken),
        (duplicate_phone, Conflict::PhoneTaken),
        (duplicate_member, Conflict::AlreadyMember),
        (ghost_user, Conflict::Stale),
        (stale_user, Conflict::Stale),
    ] {
        assert_eq!(conflict(store.create_invitation(&new).await), expected);
    }
    let mut forged = acceptance(&activation, &owner, now);
    forged.token_hash = token_hash();
    assert_eq!(conflict(store.accept_invitation(&forged).await), Conflict::TokenSpent);
    let stale = session(&owner, now);
    assert_eq!(conflict(store.rotate_session(&token_hash(), &stale).await), Conflict::Stale);

    // Writes based on versions no longer stored, each with items that only it would create.
    let read_later = Account { owner_version: account.owner_version + 3, ..account.clone() };
    let mut ahead = acceptance(&activation, &owner, now);
    ahead.account = Some(read_later.clone().owned_by(owner.id.clone()));
    assert_eq!(conflict(store.accept_invitation(&ahead).await), Conflict::Stale);
    let mut new_link = owner_link(&account, "stale", now);
    new_link.claim_phone = Some(phone(&format!("+38068{:07}", rand_digits())));
    let recovery = replacing_owner_link(&read_later, &activation, None, Some(new_link), now);
    assert_eq!(conflict(store.change_owner_link(&recovery).await), Conflict::Stale);
    let removal = MemberRemoval {
        member: Member { version: activation.member.version + 2, ..activation.member.clone() },
        user: UserAfterRemoval::Released(owner.clone()),
        end_invitation: Some(activation.invitation.clone().revoked(None, now)),
        event: event(&account.id, AuditAction::MemberDeleted, owner.id.as_str(), now),
        roles: None,
    };
    assert_eq!(conflict(store.remove_member(&removal).await), Conflict::Stale);
    let mut holder_read = holder.member.clone();
    holder_read.version += 4;
    let update = MemberUpdate {
        member: holder_read.clone().blocked(now),
        event: event(&account.id, AuditAction::MemberBlocked, holder_read.user_id.as_str(), now),
        roles: None,
    };
    assert_eq!(conflict(store.update_member(&update).await), Conflict::Stale);
    let settings_later = Account { version: account.version + 2, ..account.clone() };
    let settings = event(&account.id, AuditAction::SettingsChanged, account.id.as_str(), now);
    let settings_later = settings_later.with_settings(AccountSettings::default(), Locale::Pl);
    assert_eq!(conflict(store.update_account_settings(&settings_later, &settings).await), Conflict::Stale);
    // Outbox writes on a version of a mail no longer stored, or of one never stored.
    let replaced = PendingMail { version: "replaced".into(), attempts: 1, ..holder.mail.clone() };
    assert_eq!(conflict(store.claim_mail(&replaced.version, &replaced).await), Conflict::Stale);
    let report = DeliveryReport {
        read: holder.invitation.clone(),
        invitation: Invitation { delivery: Delivery::Failed, ..holder.invitation.clone() },
        event: None,
    };
    assert_eq!(conflict(store.settle_mail(&replaced, Some(&report)).await), Conflict::Stale);
    let never = reset_mail(&owner, &reset_token(&owner, now), now);
    assert_eq!(conflict(store.claim_mail(&never.version, &never).await), Conflict::Stale);
    assert_eq!(conflict(store.settle_mail(&never, None).await), Conflict::Stale);

    assert_eq!(snapshot(&store).await, before_other, "a failed write left or changed an item");
}

/// Read and write operations as the budget counts them.
fn round_trips(operations: &[String]) -> (usize, usize) {
    let reads = ["GetItem", "BatchGetItem", "Query"];
    let writes = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"];
    for operation in operations {
        assert!(
            reads.contains(&operation.as_str()) || writes.contains(&operation.as_str()),
            "{operation} is not allowed"
        );
    }
    let count = |kinds: &[&str]| operations.iter().filter(|o| kinds.contains(&o.as_str())).count();
    (count(&reads), count(&writes))
}

pub(crate) async fn dynamodb_every_store_method_costs_at_most_one_read_and_one_write() {
    let calls = DynamoCalls::default();
    let store = counted_dynamo_store(&calls).await;
    let now = now();
    calls.take();
    let mut costs: Vec<(&str, Vec<String>)> = Vec::new();
    let mut record = |name: &'static str, calls: &DynamoCalls| costs.push((name, calls.take()));

    let founded = found_account(&store, now).await;
    record("create_account", &calls);
    let Founded { account, owner, .. } = &founded;
    store.account(&account.id).await.unwrap();
    record("account", &calls);
    let address = unique_email("counted");
    let person = user(&address, now);
    let new = invitation(account, &address, InviteeUser::New(person.clone()), now);
    store.create_invitation(&new).await.unwrap();
    record("create_invitation", &calls);
    store.redemption(&new.token.hash, None).await.unwrap();
    record("redemption", &calls);
    store.invitation(&account.id, &new.invitation.id).await.unwrap();
    record("invitation", &calls);
    let everything = InvitationQuery { status: None, role: None, email: None, delivery: None, now };
    store.invitations(&account.id, &everything, &PageRequest { limit: 1, after: None }).await.unwrap();
    record("invitations", &calls);
    let filtered = InvitationQuery { status: Some(InvitationStatus::Sent), ..everything };
    store.invitations(&account.id, &filtered, &PageRequest { limit: 1, after: None }).await.unwrap();
    record("invitations (filtered)", &calls);
    store
        .members(&account.id, &MemberQuery::default(), &PageRequest { limit: 1, after: None })
        .await
        .unwrap();
    record("members", &calls);
    store
        .audit_events(&account.id, &AuditQuery::default(), &PageRequest { limit: 1, after: None })
        .await
        .unwrap();
    record("audit_events", &calls);
    store.lapsed_invitations(now, &PageRequest { limit: 10, after: None }).await.unwrap();
    record("lapsed_invitations", &calls);
    store.login_by_email(&address).await.unwrap();
    record("login_by_email", &calls);
    store.login_by_id(&person.id).await.unwrap();
    record("login_by_id", &calls);
    store.caller(&account.id, &owner.id, &SessionFamilyId::generate()).await.unwrap();
    record("caller", &calls);
    store.member(&account.id, &owner.id).await.unwrap();
    record("member", &calls);
    store.user(&owner.id).await.unwrap();
    record("user", &calls);

    let token = OneTimeToken { hash: token_hash(), ..new.token.clone() };
    let mut renewed = new.invitation.clone();
    renewed.token_hash = token.hash.clone();
    renewed.delivery = Delivery::Pending;
    let resend = Resend {
        invitation: renewed.clone(),
        previous_token_hash: new.token.hash.clone(),
        previous_delivery: Delivery::Sent,
        token: token.clone(),
        member: Some(new.member.clone().pending_until(token.expires_at)),
        event: event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), now),
        mail: invitation_mail(&renewed, now),
        remembered: None,
    };
    store.resend_invitation(&resend).await.unwrap();
    record("resend_invitation", &calls);
    store.pending_mail(&resend.mail.key).await.unwrap();
    record("pending_mail", &calls);
    store.due_mail(now, 25).await.unwrap();
    record("due_mail", &calls);
    let postponed = PendingMail { attempts: 1, due_at: now + Duration::minutes(1), ..resend.mail.clone() };
    store.claim_mail(&postponed.version, &postponed).await.unwrap();
    record("claim_mail", &calls);
    let handed = renewed.handed_over(&renewed.token_hash, Delivery::Sent).expect("its mail is pending");
    let report = DeliveryReport { read: renewed.clone(), invitation: handed, event: None };
    store.settle_mail(&postponed, Some(&report)).await.unwrap();
    record("settle_mail", &calls);
    let renewed = report.invitation;
    let withdrawal = Withdrawal {
        invitation: renewed.clone().revoked(None, now),
        event: event(&account.id, AuditAction::InvitationRevoked, renewed.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.unwrap();
    record("withdraw_invitation", &calls);

    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.unwrap();
    record("accept_invitation", &calls);
    let active = accepted.account.clone().expect("the account as the owner left it");
    let chain = session(&accepted.user, now);
    store.record_sign_in(&sign_in(&chain, std::slice::from_ref(&account.id), now)).await.unwrap();
    record("record_sign_in", &calls);
    store.refresh_session(&chain.family_id).await.unwrap();
    record("refresh_session", &calls);
    let next = RefreshSession { secret_hash: token_hash(), ..chain.clone() };
    store.rotate_session(&chain.secret_hash, &next).await.unwrap();
    record("rotate_session", &calls);
    store.end_session(&chain.family_id).await.unwrap();
    record("end_session", &calls);

    let heir = active_member(&store, account, "heir", now).await;
    calls.take();
    let promoted = heir.member.clone().regranted(accountant());
    let promotion = event(&account.id, AuditAction::MemberRolesChanged, promoted.user_id.as_str(), now);
    store
        .update_member(&MemberUpdate { member: promoted.clone(), event: promotion, roles: None })
        .await
        .unwrap();
    record("update_member", &calls);
    let handover = transfer(&active, &accepted.member, &promoted, now);
    store.transfer_ownership(&handover).await.unwrap();
    record("transfer_ownership", &calls);
    let settings = event(&account.id, AuditAction::SettingsChanged, account.id.as_str(), now);
    let changed_settings = handover.account.clone().with_settings(AccountSettings::default(), Locale::Pl);
    store.update_account_settings(&changed_settings, &settings).await.unwrap();
    record("update_account_settings", &calls);
    let first_link = owner_link(&changed_settings, "candidate", now);
    let started = owner_link_change(&changed_settings, first_link.clone());
    store.change_owner_link(&started).await.unwrap();
    calls.take();
    let InviteeUser::New(candidate) = &first_link.user else { unreachable!("a new person") };
    let candidate = User { phone: Some(phone(&format!("+38098{:07}", rand_digits()))), ..candidate.clone() };
    let next_link = owner_link(&started.account, "next", now);
    let replaced = replacing_owner_link(
        &started.account,
        &first_link,
        Some((&first_link.member, &candidate)),
        Some(next_link),
        now,
    );
    store.change_owner_link(&replaced).await.unwrap();
    record("change_owner_link", &calls);
    let reset = reset_token(&accepted.user, now);
    let resetting = with_reset_link(&accepted.user, &reset, now);
    store.issue_password_reset(&resetting, &reset, &reset_mail(&accepted.user, &reset, now)).await.unwrap();
    record("issue_password_reset", &calls);
    store.password_reset(&reset.hash, None).await.unwrap();
    record("password_reset", &calls);
    let changed = resetting.clone().with_password("$argon2id$counted".into());
    store
        .change_password(&PasswordChange {
            user: changed.clone(),
            spent_links: vec![reset.hash.clone()],
            kept_session: None,
        })
        .await
        .unwrap();
    record("change_password", &calls);
    let profile = ProfileUpdate {
        user: User { first_name: Some("Oksana".into()), version: changed.version + 1, ..changed },
        accounts: vec![account.id.clone()],
        claim_phone: None,
        release_phone: None,
    };
    store.update_profile(&profile).await.unwrap();
    record("update_profile", &calls);
    store.hit_rate_limit("sign-in:counted", 5, 60, now).await.unwrap();
    record("hit_rate_limit", &calls);
    let leaving = User { phone: Some(phone(&format!("+38097{:07}", rand_digits()))), ..heir.user.clone() };
    let removal = MemberRemoval {
        member: handover.successor.clone(),
        user: UserAfterRemoval::Released(leaving),
        end_invitation: None,
        event: event(&account.id, AuditAction::MemberDeleted, heir.user.id.as_str(), now),
        roles: None,
    };
    store.remove_member(&removal).await.unwrap();
    record("remove_member", &calls);

    let mut over_budget = Vec::new();
    for (method, operations) in &costs {
        let (reads, writes) = round_trips(operations);
        // A link is known only by its hash: the token names the user and account the rest is
        // read from, in a second round trip (for an invitation: its account, invitation, user
        // and membership in one consistent `BatchGetItem`; for a reset: the user's own item;
        // each alongside the login's `Query`).
        // The outbox's sweep reads each of its partitions (`keys::OUTBOX_SHARDS`), at once.
        let allowed_reads = match *method {
            "redemption" | "password_reset" => 3,
            "due_mail" => 4,
            _ => 1,
        };
        if reads > allowed_reads || writes > 1 {
            over_budget.push(format!("{method}: {operations:?}"));
        }
        println!("{method:<24} reads {reads}  writes {writes}  {operations:?}");
    }
    assert!(over_budget.is_empty(), "over budget:\n{}", over_budget.join("\n"));
    let methods: BTreeSet<_> = costs.iter().map(|(m, _)| m.split(' ').next().unwrap_or(m)).collect();
    assert_eq!(methods.len(), 35, "each Store method listed here is measured: {methods:?}");
}

pub(crate) async fn dynamodb_an_audit_item_this_version_cannot_read_is_named_alone() {
    // Given two audit events, one of them rewritten by a version with an action this one lacks
    let store = dynamo_store().await;
    let now = now();
    let Founded { account, .. } = found_account(&store, now).await;
    let (_, first) = invite_new(&store, &account, "first", now).await;
    let (_, second) = invite_new(&store, &account, "second", now).await;
    let client = aws_sdk_dynamodb::Client::from_conf(tests::emulators::dynamodb_config().build());
    client
        .update_item()
        .table_name(store.table_name())
        .key("PK", AttributeValue::S(format!("ACCOUNT#{}", account.id)))
        .key("SK", AttributeValue::S(format!("EVENT#{}", second.event.id)))
        .update_expression("SET #r.#action = :future")
        .expression_attribute_names("#r", "record")
        .expression_attribute_names("#action", "action")
        .expression_attribute_values(":future", AttributeValue::S("invitation.teleported".into()))
        .send()
        .await
        .expect("rewritten");

    // When the publisher reads both
    let named = store
        .audit_events_named(&[EventKey::from(&first.event), EventKey::from(&second.event)])
        .await
        .unwrap();

    // Then the first is read, and only the second is unreadable
    assert_eq!(named[0], NamedEvent::Found(first.event.clone()));
    assert!(matches!(&named[1], NamedEvent::Unreadable(_)), "{named:?}");
}
