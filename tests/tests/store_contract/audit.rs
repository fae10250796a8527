//! The audit log: newest first, across pages.

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
