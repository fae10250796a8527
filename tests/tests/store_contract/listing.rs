//! Listing and paging: invitations, members and lapsed invitations, across pages and filters.

use std::sync::Arc;

use shared::domain::MailOutcome;
use shared::ports::{DeliveryReport, Withdrawal};

use super::*;

pub(crate) async fn invitations_list_newest_first_across_pages_and_filters(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, activation, .. } = found_account(store.as_ref(), now).await;
    let mut written = vec![activation.invitation.clone()];
    for n in 0..6 {
        let address = unique_email(if n % 2 == 0 { "even" } else { "odd" });
        let mut new = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
        if n % 3 == 0 {
            new.invitation.roles = vec![RoleName::new("accountant")];
        }
        store.create_invitation(&new).await.expect("written");
        written.push(new.invitation);
    }
    let revoked = written[2].clone();
    let mut ended = revoked.clone();
    ended.status = InvitationStatus::Revoked;
    let withdrawal = Withdrawal {
        invitation: ended.clone(),
        event: event(&account.id, AuditAction::InvitationRevoked, ended.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.expect("revoked");
    written[2] = ended;
    // The oldest invitation's mail bounced: the last of a newest-first listing.
    let bounced = written[1].reported(1, MailOutcome::Bounced { permanent: true }).expect("a change");
    let report = DeliveryReport { read: written[1].clone(), invitation: bounced.clone(), event: None };
    store.record_delivery(&report).await.expect("recorded");
    written[1] = bounced;
    written.sort_by(|a, b| b.id.cmp(&a.id));

    let everything = InvitationQuery { status: None, role: None, email: None, delivery: None, now };
    for limit in [1, 2, 3, 7, 50] {
        let pages = all_pages(limit, |page| {
            let (store, account, query) = (store.clone(), account.id.clone(), everything.clone());
            async move { store.invitations(&account, &query, &page).await }
        })
        .await;
        assert!(pages.iter().rev().skip(1).all(|p| p.len() == limit), "only the last page is short");
        assert_eq!(pages.concat(), written, "newest first with limit {limit}");
    }

    let queries = [
        InvitationQuery { status: Some(InvitationStatus::Sent), ..everything.clone() },
        InvitationQuery { status: Some(InvitationStatus::Revoked), ..everything.clone() },
        InvitationQuery { role: Some(RoleName::new("accountant")), ..everything.clone() },
        InvitationQuery { email: Some("odd.".into()), ..everything.clone() },
        InvitationQuery { delivery: Some(Delivery::Bounced), ..everything.clone() },
        InvitationQuery {
            status: Some(InvitationStatus::Expired),
            now: now + Duration::days(4),
            ..everything.clone()
        },
    ];
    for query in queries {
        let expected: Vec<_> = written.iter().filter(|i| matches(i, &query)).cloned().collect();
        assert!(!expected.is_empty(), "{query:?} selects something");
        let pages = all_pages(2, |page| {
            let (store, account, query) = (store.clone(), account.id.clone(), query.clone());
            async move { store.invitations(&account, &query, &page).await }
        })
        .await;
        assert_eq!(pages.concat(), expected, "{query:?}");
    }
}

/// The contract's reading of an invitation query, written out independently of both stores.
fn matches(invitation: &Invitation, query: &InvitationQuery) -> bool {
    query.status.is_none_or(|s| invitation.status_at(query.now) == s)
        && query.role.as_ref().is_none_or(|r| invitation.roles.contains(r))
        && query.email.as_deref().is_none_or(|t| invitation.email.as_str().contains(t))
        && query.delivery.is_none_or(|d| invitation.delivery == d)
}

pub(crate) async fn members_list_in_user_order_across_pages_and_filters(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, activation, .. } = found_account(store.as_ref(), now).await;
    let mut members = vec![activation.member.clone()];
    for n in 0..5 {
        let address = unique_email("staff");
        let mut person = user(&address, now);
        person.last_name = Some(if n % 2 == 0 { "Shevchenko".into() } else { "Nowak".into() });
        let mut new = invitation(&account, &address, InviteeUser::New(person.clone()), now);
        new.member = new.member.with_profile(&person);
        if n == 4 {
            new.member.status = MemberStatus::Active;
        }
        store.create_invitation(&new).await.expect("written");
        members.push(new.member);
    }
    members.sort_by(|a, b| a.user_id.cmp(&b.user_id));

    let everyone = MemberQuery::default();
    for limit in [1, 2, 6, 10] {
        let pages = all_pages(limit, |page| {
            let (store, account, query) = (store.clone(), account.id.clone(), everyone.clone());
            async move { store.members(&account, &query, &page).await }
        })
        .await;
        assert!(pages.iter().rev().skip(1).all(|p| p.len() == limit), "only the last page is short");
        assert_eq!(pages.concat(), members, "user order with limit {limit}");
    }

    let queries = [
        (MemberQuery { text: Some("shevch".into()), ..everyone.clone() }, 3),
        (MemberQuery { status: Some(MemberStatus::Active), ..everyone.clone() }, 1),
        (
            MemberQuery {
                role: Some(RoleName::new("support")),
                text: Some("nowak".into()),
                ..everyone.clone()
            },
            2,
        ),
    ];
    for (query, count) in queries {
        let pages = all_pages(1, |page| {
            let (store, account, query) = (store.clone(), account.id.clone(), query.clone());
            async move { store.members(&account, &query, &page).await }
        })
        .await;
        let found = pages.concat();
        assert_eq!(found.len(), count, "{query:?}");
        assert!(found.windows(2).all(|w| w[0].user_id < w[1].user_id));
    }
}

pub(crate) async fn lapsed_invitations_come_oldest_expiry_first_across_pages(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let mut lapsed = Vec::new();
    for hours_ago in [80, 200, 75, 300] {
        let (_, new) =
            invite_new(store.as_ref(), &account, "lapsing", now - Duration::hours(hours_ago)).await;
        lapsed.push(new.invitation);
    }
    invite_new(store.as_ref(), &account, "current", now).await;
    let (_, revoked) = invite_new(store.as_ref(), &account, "revoked", now - Duration::hours(90)).await;
    let mut ended = revoked.invitation.clone();
    ended.status = InvitationStatus::Revoked;
    let withdrawal = Withdrawal {
        invitation: ended,
        event: event(&account.id, AuditAction::InvitationRevoked, revoked.invitation.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.expect("revoked");
    lapsed.sort_by_key(|i| i.expires_at);

    for limit in [1, 3, 100] {
        let pages = all_pages(limit, |page| {
            let store = store.clone();
            async move { store.lapsed_invitations(now, &page).await }
        })
        .await;
        assert_eq!(pages.concat(), lapsed, "oldest expiry first with limit {limit}");
    }
}
