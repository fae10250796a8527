//! The audit log: newest first, across pages; an event read by its key, or gone.

use std::sync::Arc;

use super::*;

pub(crate) async fn audit_events_list_newest_first_across_pages(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    for name in ["a", "b", "c"] {
        invite_new(store.as_ref(), &account, name, now).await;
    }
    let pages = all_pages(2, |page| {
        let (store, account) = (store.clone(), account.id.clone());
        async move { store.audit_events(&account, &AuditQuery::default(), &page).await }
    })
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);
    let events = pages.concat();
    assert!(events.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(events.last().map(|e| e.action), Some(AuditAction::AccountCreated));
}

pub(crate) async fn a_filtered_audit_list_keeps_only_matching_events_across_pages(store: Arc<dyn Store>) {
    // Given an account whose three invitations were written an hour apart
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now - Duration::hours(3)).await;
    let mut written = Vec::new();
    for (name, hours_ago) in [("early", 2), ("middle", 1), ("late", 0)] {
        written
            .push(invite_new(store.as_ref(), &account, name, now - Duration::hours(hours_ago)).await.1.event);
    }

    // When the log is read from ninety minutes ago, for the invitations' action, a page at a time
    let query = AuditQuery {
        from: Some(now - Duration::minutes(90)),
        action: Some(written[0].action),
        ..AuditQuery::default()
    };
    let read = |query: AuditQuery| {
        let (store, account) = (store.clone(), account.id.clone());
        all_pages(1, move |page| {
            let (store, account, query) = (store.clone(), account.clone(), query.clone());
            async move { store.audit_events(&account, &query, &page).await }
        })
    };
    let recent = read(query).await.concat();

    // Then only the two later invitations' events come, newest first, each once
    assert_eq!(recent, vec![written[2].clone(), written[1].clone()]);

    // And an instant's window and one target each narrow it further
    let before_the_last = AuditQuery { to: Some(now), ..AuditQuery::default() };
    let early = read(before_the_last).await.concat();
    assert!(early.iter().all(|e| e.at < now) && early.contains(&written[1]) && !early.contains(&written[2]));
    let about_the_first = AuditQuery { target: Some(written[0].target_id.clone()), ..AuditQuery::default() };
    assert_eq!(read(about_the_first).await.concat(), vec![written[0].clone()]);
}

pub(crate) async fn an_event_is_read_by_its_key_and_one_not_stored_is_gone(store: Arc<dyn Store>) {
    // Given an account with one invitation written, and the key of an event never written
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (_, kept) = invite_new(store.as_ref(), &account, "kept", now).await;
    let missing = EventKey { account_id: account.id.clone(), event_id: EventId::generate() };

    // When the publisher reads their events by the keys the table's stream names
    let keys = [EventKey::from(&kept.event), missing];
    let read = store.audit_events_named(&keys).await.unwrap();

    // Then the written one is as written, and the other is gone
    assert_eq!(read, vec![NamedEvent::Found(kept.event.clone()), NamedEvent::Gone]);
    assert_eq!(store.audit_events_named(&[]).await.unwrap(), Vec::new());
}
