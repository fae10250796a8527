//! The production store: one DynamoDB table; every `Store` method is at most one read round trip
//! (`GetItem`, `BatchGetItem` or one `Query`) and one write round trip (a conditional write or one
//! `TransactWriteItems`), except the two that start from a link's hash (`redemption`,
//! `password_reset`): the token names the user and account the rest is read from. Nothing scans.
//! The contract tests hold it to the memory store's behaviour on DynamoDB Local.
//!
//! Items (keys in `keys`): an account `ACCOUNT#a/META`, its members `ACCOUNT#a/MEMBER#u`,
//! invitations `ACCOUNT#a/INVITATION#id` and audit events `ACCOUNT#a/EVENT#id`; users
//! `USER#u/PROFILE`; tokens `TOKEN#<sha256>/TOKEN`, sessions `SESSION#f/SESSION` and rate
//! counters `RATE#<key>#<window>/RATE` with an epoch-seconds TTL; the answers of requests sent
//! with an `Idempotency-Key` `IDEMPOTENCY#<hash>/REMEMBERED`, with a TTL; uniqueness claims
//! `EMAIL#e/CLAIM` and `PHONE#p/CLAIM`, written under `attribute_not_exists(PK)` in the
//! transaction that needs them. Index `ByUser` holds each user's profile and memberships under
//! their id, `ByEmail` the same under their email, and the sparse `PendingByExpiry` exactly the
//! `sent` invitations, by expiry.
//!
//! A member item carries the parts of its account that never change (`AccountSummary`), so a
//! whole login (the user and every membership) is one `Query`.

mod expressions;
mod items;
mod keys;
mod store;
pub mod stream;
pub mod table;
mod write;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::time::Duration;

use crate::domain::{AccountId, LinkNames, Member, OneTimeToken, UserId};
use crate::ports::{Login, Page, PageRequest, StoreError, StoreResult};
use items::{Item, s};
use write::Writes;

/// The store over one table; cheap to clone (the SDK client is shared).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

/// A failed DynamoDB call: an outage (`Unavailable`: a timeout, throttling, a 5xx) or a fault
/// (`Failed`: a request DynamoDB refuses).
fn call_failed<E>(error: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    crate::adapters::aws::sorted(error, StoreError::Unavailable, StoreError::Failed)
}

/// A fault of this code: a request it could not build, an item it cannot read.
fn failed<E: Into<Box<dyn std::error::Error + Send + Sync>>>(error: E) -> StoreError {
    StoreError::Failed(error.into())
}

/// One page of a list: which partition (or index partition) to query and how.
struct Listing {
    index: Option<&'static str>,
    key_condition: &'static str,
    values: HashMap<String, AttributeValue>,
    newest_first: bool,
    /// Whether items may be dropped by a filter: then a page reads up to 1 MB to find its
    /// matches, else exactly one item more than the page, to learn whether another follows.
    filtered: bool,
    start: Option<Item>,
    /// The position of an item (or of the last key DynamoDB evaluated) in this list.
    position: fn(&Item) -> Option<String>,
}

/// A base-table item's position in an account's list: its sort key without the list's prefix.
fn sort_key_position(item: &Item, prefix: &str) -> Option<String> {
    items::string(item, keys::SK).and_then(|sk| sk.strip_prefix(prefix).map(str::to_owned))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Opens the connection (TLS handshake included) with a read of an item that never exists,
    /// during a Lambda function's init. Needs no permission beyond `GetItem`; a failure only
    /// means the first request connects instead.
    pub async fn prime(&self) {
        if let Err(error) = self.get(items::key("PRIME".into(), "PRIME")).await {
            tracing::warn!(%error, "priming the DynamoDB connection failed");
        }
    }

    /// Creates the table as `infra/table.json` defines it, unless it exists.
    pub async fn ensure_table(&self) -> StoreResult<()> {
        table::ensure(&self.client, &self.table).await
    }

    async fn send(&self, writes: Writes) -> StoreResult<()> {
        writes.send(&self.client, &self.table).await
    }

    async fn get(&self, key: Item) -> StoreResult<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(call_failed)?;
        Ok(output.item)
    }

    async fn get_record<T: DeserializeOwned>(&self, key: Item) -> StoreResult<Option<T>> {
        self.get(key).await?.as_ref().map(items::record).transpose()
    }

    async fn stored_member(&self, account: &AccountId, user: &UserId) -> StoreResult<Option<Member>> {
        self.get_record(items::key(keys::account(account), keys::member(user))).await
    }

    /// Strongly consistent reads of several items in one round trip. DynamoDB may leave keys
    /// unprocessed under throttling; those are asked for again, a bounded number of times.
    async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut found = Vec::new();
        let mut pending = keys;
        let mut delay = Duration::from_millis(10);
        for _ in 0..4 {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(failed)?;
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(call_failed)?;
            found.extend(output.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(found);
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        Err(StoreError::Unavailable("DynamoDB kept keys of a batch read unprocessed".into()))
    }

    /// Every item `key_condition` selects, page after page, in sort-key order: of the base table
    /// (read consistently: the few items of one kind in one partition, an account's keys), or of
    /// the index named (a person's memberships; their sessions, which nothing caps, may take
    /// more than a page).
    async fn query_all(
        &self,
        index: Option<&'static str>,
        key_condition: &'static str,
        values: HashMap<String, AttributeValue>,
    ) -> StoreResult<Vec<Item>> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(key_condition)
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(index.is_none())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(call_failed)?;
            found.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// What a link leads to: what it names, or, for a link that names nothing (mailed before
    /// links named their records), what its token item says; `None` for an unknown token.
    async fn link_names(
        &self,
        token_hash: &str,
        names: Option<&LinkNames>,
    ) -> StoreResult<Option<LinkNames>> {
        if let Some(names) = names {
            return Ok(Some(names.clone()));
        }
        let token = self.get_record::<OneTimeToken>(items::token_key(token_hash)).await?;
        Ok(token.map(|t| t.names()))
    }

    /// A user's login by id: their profile and memberships, one `Query` on `ByUser`.
    async fn login_of(&self, user: &UserId) -> StoreResult<Option<Login>> {
        let found = self
            .query_all(
                Some(keys::BY_USER),
                "ByUserPK = :user",
                HashMap::from([(":user".to_owned(), s(keys::user(user)))]),
            )
            .await?;
        login(&found, keys::BY_USER_SK)
    }

    /// One page: one `Query`, up to `limit` matches after `start`. `next` is the position of the
    /// last returned item when another match is known to follow, or of the last item DynamoDB
    /// evaluated when it stopped early (at 1 MB); `None` once the list is exhausted.
    async fn list<T: DeserializeOwned>(
        &self,
        listing: Listing,
        page: &PageRequest,
        matches: impl Fn(&T) -> bool,
    ) -> StoreResult<Page<T>> {
        let limit =
            (!listing.filtered).then(|| i32::try_from(page.limit.saturating_add(1)).unwrap_or(i32::MAX));
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(listing.index.map(str::to_owned))
            .key_condition_expression(listing.key_condition)
            .set_expression_attribute_values(Some(listing.values))
            .scan_index_forward(!listing.newest_first)
            .consistent_read(listing.index.is_none())
            .set_exclusive_start_key(listing.start)
            .set_limit(limit)
            .send()
            .await
            .map_err(call_failed)?;
        let mut found = Vec::new();
        let mut last = None;
        for item in output.items() {
            let value: T = items::record(item)?;
            if !matches(&value) {
                continue;
            }
            if found.len() == page.limit {
                return Ok(Page { items: found, next: last });
            }
            found.push(value);
            last = (listing.position)(item);
        }
        let next = output.last_evaluated_key().and_then(|key| (listing.position)(key));
        Ok(Page { items: found, next })
    }

    /// A base-table list: the items of `account` whose sort keys start with `prefix`.
    fn account_listing(
        account: &AccountId,
        prefix: &'static str,
        newest_first: bool,
        filtered: bool,
        page: &PageRequest,
        position: fn(&Item) -> Option<String>,
    ) -> Listing {
        let start =
            page.after.as_ref().map(|after| items::key(keys::account(account), format!("{prefix}{after}")));
        Listing {
            index: None,
            key_condition: "PK = :pk AND begins_with(SK, :prefix)",
            values: HashMap::from([
                (":pk".to_owned(), s(keys::account(account))),
                (":prefix".to_owned(), s(prefix)),
            ]),
            newest_first,
            filtered,
            start,
            position,
        }
    }
}

/// A login from the items of one user's index partition: the profile and every membership, in
/// account order (as `ByUser` and `ByEmail` sort them).
fn login(items: &[Item], sort_key: &str) -> StoreResult<Option<Login>> {
    let mut user = None;
    let mut memberships = Vec::new();
    for item in items {
        match items::string(item, sort_key).as_deref() {
            Some(keys::PROFILE) => user = Some(items::record(item)?),
            Some(sk) if sk.starts_with(keys::MEMBER_PREFIX) => memberships.push(items::membership(item)?),
            _ => {}
        }
    }
    Ok(user.map(|user| Login { user, memberships }))
}
