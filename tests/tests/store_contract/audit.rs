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
        async move { store.audit_events(&account, &page).await }
    })
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);
    let events = pages.concat();
    assert!(events.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(events.last().map(|e| e.action), Some(AuditAction::AccountCreated));
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
