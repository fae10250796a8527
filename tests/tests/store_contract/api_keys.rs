//! API keys: a new key is written once, a change needs the version it read and keeps the use
//! noted beside the record, a use is noted at most once per `API_KEY_USE_RESOLUTION`, and an
//! account lists its own keys, newest first.

use std::sync::Arc;

use shared::domain::api_key::KEPT_AFTER_END_DAYS;
use shared::domain::{ApiKey, ApiKeyId, Network, Permission};
use shared::ports::API_KEY_USE_RESOLUTION;
use tests::emulators::{DynamoCalls, counted_dynamo_store, scan_table};

use super::*;

/// A key of `account` as the service creates it: version 1, never used.
fn api_key(account: &AccountId, name: &str, now: DateTime<Utc>) -> ApiKey {
    let permissions: PermissionSet = ["orders:read", "products:write"]
        .into_iter()
        .map(|p| Permission::parse(p).expect("a permission"))
        .collect();
    ApiKey {
        id: ApiKeyId::generate(),
        account_id: account.clone(),
        name: name.to_owned(),
        permissions,
        networks: vec![
            Network::parse("203.0.113.0/24").expect("a network"),
            Network::parse("2001:db8::/32").expect("a network"),
        ],
        hint: "tgk_AZrS3dQ1".into(),
        secret_hash: token_hash(),
        retired: None,
        created_by: UserId::generate(),
        created_at: now,
        expires_at: now + Duration::days(90),
        revoked_at: None,
        last_used_at: None,
        version: 1,
    }
}

fn key_event(key: &ApiKey, action: AuditAction, now: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        id: EventId::generate(),
        account_id: key.account_id.clone(),
        at: now,
        actor_id: Some(key.created_by.clone()),
        action,
        target_type: AuditTarget::ApiKey,
        target_id: key.id.to_string(),
        details: json!({ "name": key.name }),
    }
}

async fn stored_key(store: &dyn Store, key: &ApiKey) -> ApiKey {
    store.api_key(&key.account_id, &key.id).await.expect("a key read").expect("the key is stored")
}

async fn events_of(store: &dyn Store, account: &AccountId) -> Vec<AuditEvent> {
    store
        .audit_events(account, &AuditQuery::default(), &PageRequest { limit: 1000, after: None })
        .await
        .expect("events")
        .items
}

pub(crate) async fn a_new_key_is_written_once_with_its_event(store: Arc<dyn Store>) {
    let now = now();
    let account = AccountId::generate();
    let key = api_key(&account, "repricer", now);
    let created = key_event(&key, AuditAction::ApiKeyCreated, now);
    store.save_api_key(&key, &created).await.expect("a new key is written");

    assert_eq!(stored_key(store.as_ref(), &key).await, key, "it reads back as written, never used");
    assert_eq!(events_of(store.as_ref(), &account).await, vec![created.clone()]);

    // The same id again, as a first version: refused, and nothing written.
    let twin = ApiKey { name: "twin".into(), secret_hash: token_hash(), ..key.clone() };
    let again = key_event(&twin, AuditAction::ApiKeyCreated, now);
    assert_eq!(conflict(store.save_api_key(&twin, &again).await), Conflict::Stale);
    assert_eq!(stored_key(store.as_ref(), &key).await, key, "the first stays");
    assert_eq!(events_of(store.as_ref(), &account).await, vec![created], "no event of the refused write");

    // The key is its account's alone, and an id that names nothing reads as nothing.
    let elsewhere = AccountId::generate();
    assert_eq!(store.api_key(&elsewhere, &key.id).await.expect("a read"), None);
    assert_eq!(store.api_key(&account, &ApiKeyId::generate()).await.expect("a read"), None);
    assert!(store.api_keys(&elsewhere).await.expect("a list").is_empty());
}

pub(crate) async fn a_key_change_needs_the_version_it_read_and_keeps_the_last_use(store: Arc<dyn Store>) {
    let now = now();
    let account = AccountId::generate();
    let key = api_key(&account, "erp", now);
    store.save_api_key(&key, &key_event(&key, AuditAction::ApiKeyCreated, now)).await.expect("written");
    let used = now + Duration::seconds(5);
    store.note_api_key_use(&account, &key.id, used).await.expect("a use noted");

    // A rotation from the version read: written, and the use noted meanwhile stays.
    let later = now + Duration::minutes(10);
    let rotated = key
        .clone()
        .rotated(token_hash(), "tgk_AZrS3dQ1".into(), Duration::hours(2), later)
        .expect("an active key rotates");
    let rotation = key_event(&rotated, AuditAction::ApiKeyRotated, later);
    store.save_api_key(&rotated, &rotation).await.expect("the rotation is written");
    let read = stored_key(store.as_ref(), &key).await;
    assert_eq!(read, ApiKey { last_used_at: Some(used), ..rotated.clone() });

    // A second change from the same read: stale, and nothing of it is written.
    let revoked_from_stale = key.clone().revoked(later).expect("the read was not revoked");
    let revocation = key_event(&revoked_from_stale, AuditAction::ApiKeyRevoked, later);
    assert_eq!(conflict(store.save_api_key(&revoked_from_stale, &revocation).await), Conflict::Stale);
    // A version from the future, and a change of a key never written: stale too.
    let skipping = ApiKey { version: rotated.version + 2, ..rotated.clone() };
    let skipped = key_event(&skipping, AuditAction::ApiKeyRevoked, later);
    assert_eq!(conflict(store.save_api_key(&skipping, &skipped).await), Conflict::Stale);
    let ghost = ApiKey { id: ApiKeyId::generate(), version: 2, ..key.clone() };
    let haunting = key_event(&ghost, AuditAction::ApiKeyRevoked, later);
    assert_eq!(conflict(store.save_api_key(&ghost, &haunting).await), Conflict::Stale);
    assert_eq!(store.api_key(&account, &ghost.id).await.expect("a read"), None, "no key made up");
    assert_eq!(stored_key(store.as_ref(), &key).await, read, "the refused writes changed nothing");
    let actions: Vec<AuditAction> =
        events_of(store.as_ref(), &account).await.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::ApiKeyRotated, AuditAction::ApiKeyCreated], "newest first, no more");

    // A change never writes the last use, whatever the record it carries says.
    let revoked = read.clone().revoked(later).expect("not revoked yet");
    let claiming = ApiKey { last_used_at: Some(later + Duration::days(1)), ..revoked.clone() };
    store
        .save_api_key(&claiming, &key_event(&revoked, AuditAction::ApiKeyRevoked, later))
        .await
        .expect("revoked");
    assert_eq!(stored_key(store.as_ref(), &key).await, ApiKey { last_used_at: Some(used), ..revoked });
}

pub(crate) async fn a_keys_use_is_noted_at_most_once_per_resolution(store: Arc<dyn Store>) {
    let now = now();
    let account = AccountId::generate();
    let key = api_key(&account, "warehouse", now);
    store.save_api_key(&key, &key_event(&key, AuditAction::ApiKeyCreated, now)).await.expect("written");
    let last_used = |store: Arc<dyn Store>, key: ApiKey| async move {
        stored_key(store.as_ref(), &key).await.last_used_at
    };

    store.note_api_key_use(&account, &key.id, now).await.expect("the first use");
    assert_eq!(last_used(store.clone(), key.clone()).await, Some(now));
    // Within the resolution: nothing is written, and it is no error.
    let within = now + API_KEY_USE_RESOLUTION - Duration::milliseconds(1);
    store.note_api_key_use(&account, &key.id, within).await.expect("a use within the minute");
    assert_eq!(last_used(store.clone(), key.clone()).await, Some(now));
    // A full resolution later: noted.
    let next = now + API_KEY_USE_RESOLUTION;
    store.note_api_key_use(&account, &key.id, next).await.expect("a use a minute on");
    assert_eq!(last_used(store.clone(), key.clone()).await, Some(next));
    // A use older than the one noted (a late writer) never moves it back.
    store.note_api_key_use(&account, &key.id, now - Duration::hours(1)).await.expect("a late use");
    assert_eq!(last_used(store.clone(), key.clone()).await, Some(next));

    // Sixteen at once, a minute on: the last use is one of them, whichever wins.
    let burst = next + API_KEY_USE_RESOLUTION;
    let uses = (0..16).map(|i| {
        let (store, account, id) = (store.clone(), account.clone(), key.id.clone());
        async move { store.note_api_key_use(&account, &id, burst + Duration::milliseconds(i)).await }
    });
    for noted in futures::future::join_all(uses).await {
        noted.expect("a concurrent use is no error");
    }
    let after = last_used(store.clone(), key.clone()).await.expect("noted");
    assert!(after >= burst && after < burst + Duration::milliseconds(16), "{after}");

    // The use of a key that does not exist writes nothing and is no error.
    let nobody = ApiKeyId::generate();
    store.note_api_key_use(&account, &nobody, burst).await.expect("no error");
    assert_eq!(store.api_key(&account, &nobody).await.expect("a read"), None, "no key made up");
    let other = AccountId::generate();
    store.note_api_key_use(&other, &key.id, burst + API_KEY_USE_RESOLUTION).await.expect("no error");
    assert_eq!(store.api_key(&other, &key.id).await.expect("a read"), None, "not another account's");
    assert_eq!(last_used(store.clone(), key.clone()).await, Some(after), "nor this key's");
    // And the record is untouched by every use.
    assert_eq!(stored_key(store.as_ref(), &key).await, ApiKey { last_used_at: Some(after), ..key });
}

pub(crate) async fn an_accounts_keys_list_newest_first_with_their_last_use(store: Arc<dyn Store>) {
    let now = now();
    let (account, other) = (AccountId::generate(), AccountId::generate());
    assert!(store.api_keys(&account).await.expect("a list").is_empty(), "none yet");
    let mut written = Vec::new();
    for (i, name) in ["first", "second", "third", "fourth"].into_iter().enumerate() {
        let at = now + Duration::seconds(i as i64);
        let key = api_key(&account, name, at);
        store.save_api_key(&key, &key_event(&key, AuditAction::ApiKeyCreated, at)).await.expect("written");
        written.push(key);
        let stranger = api_key(&other, &format!("{name} elsewhere"), at);
        store
            .save_api_key(&stranger, &key_event(&stranger, AuditAction::ApiKeyCreated, at))
            .await
            .expect("written");
    }
    let used = now + Duration::minutes(3);
    store.note_api_key_use(&account, &written[1].id, used).await.expect("noted");
    let revoked = written[2].clone().revoked(used).expect("active");
    store
        .save_api_key(&revoked, &key_event(&revoked, AuditAction::ApiKeyRevoked, used))
        .await
        .expect("revoked");

    let listed = store.api_keys(&account).await.expect("a list");
    let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["fourth", "third", "second", "first"], "newest first, none of another account");
    assert!(listed.windows(2).all(|w| w[0].id > w[1].id), "by id, descending");
    assert_eq!(listed[2], ApiKey { last_used_at: Some(used), ..written[1].clone() }, "with its last use");
    assert_eq!(listed[1], revoked, "as last written");
    assert_eq!(listed[0], written[3]);
    assert_eq!(store.api_keys(&other).await.expect("a list").len(), 4);
}

/// DynamoDB only: each key method is one round trip, a refused use included; the use is an
/// attribute beside the record, and no write leaves another item behind.
pub(crate) async fn dynamodb_key_methods_cost_one_round_trip_each() {
    let calls = DynamoCalls::default();
    let store = counted_dynamo_store(&calls).await;
    let now = now();
    let account = AccountId::generate();
    let key = api_key(&account, "counted", now);
    calls.take();
    store.save_api_key(&key, &key_event(&key, AuditAction::ApiKeyCreated, now)).await.expect("written");
    assert_eq!(calls.take(), ["TransactWriteItems"], "save (new)");
    let forgotten = |items: &[serde_json::Value]| {
        let item = items.iter().find(|i| i["SK"]["S"].as_str().is_some_and(|sk| sk.starts_with("APIKEY#")));
        item.map(|i| i["expires_at"]["N"].clone())
    };
    let at_expiry = key.expires_at + Duration::days(KEPT_AFTER_END_DAYS);
    let seconds = at_expiry.timestamp() + i64::from(at_expiry.timestamp_subsec_nanos() > 0);
    assert_eq!(forgotten(&scan_table(&store).await), Some(json!(seconds.to_string())), "a new key's TTL");
    calls.take();
    store.api_key(&account, &key.id).await.expect("read");
    assert_eq!(calls.take(), ["GetItem"], "api_key");
    store.api_keys(&account).await.expect("listed");
    assert_eq!(calls.take(), ["Query"], "api_keys");
    store.note_api_key_use(&account, &key.id, now).await.expect("noted");
    let noted = calls.take();
    assert_eq!(noted.len(), 1, "note_api_key_use: {noted:?}");
    store.note_api_key_use(&account, &key.id, now + Duration::seconds(1)).await.expect("not noted");
    assert_eq!(calls.take().len(), 1, "a use within the minute: one refused write, no retry");
    let revoked = key.clone().revoked(now).expect("active");
    store
        .save_api_key(&revoked, &key_event(&revoked, AuditAction::ApiKeyRevoked, now))
        .await
        .expect("revoked");
    assert_eq!(calls.take(), ["TransactWriteItems"], "save (change)");

    // What the table holds: the key's item (with its use beside the record, and when the table
    // may forget it: `KEPT_AFTER_END_DAYS` after it ended, as a TTL) and two events.
    let items = scan_table(&store).await;
    let key_items: Vec<_> =
        items.iter().filter(|i| i["SK"]["S"].as_str().is_some_and(|sk| sk.starts_with("APIKEY#"))).collect();
    assert_eq!(key_items.len(), 1, "{items:?}");
    assert_eq!(
        key_items[0]["last_used_at"]["N"],
        json!(now.timestamp_millis().to_string()),
        "{:?}",
        key_items[0]
    );
    let ttl = |at: DateTime<Utc>| (at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)).to_string();
    assert_eq!(revoked.forgotten_at(), now + Duration::days(KEPT_AFTER_END_DAYS), "revoked now");
    assert_eq!(key_items[0]["expires_at"]["N"], json!(ttl(revoked.forgotten_at())), "{:?}", key_items[0]);
    assert_eq!(items.len(), 3, "the key and its two events, nothing else: {items:?}");
}
