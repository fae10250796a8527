//! One write round trip: a list of item operations, each with the condition that encodes a rule
//! and the conflict its failure means. One operation goes out as a plain conditional write, more
//! as one `TransactWriteItems`; a failed condition becomes that operation's `Conflict`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use std::collections::HashMap;

use super::items::{Item, s};
use super::keys;
use super::{call_failed, failed};
use crate::adapters::aws::is_transient_code;
use crate::ports::{Conflict, StoreError, StoreResult};

/// A condition expression with its placeholders, and the conflict reported when it fails.
#[derive(Clone, Debug)]
pub struct Condition {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    conflict: Conflict,
}

impl Condition {
    pub fn new(expression: impl Into<String>, conflict: Conflict) -> Self {
        Self { expression: expression.into(), names: HashMap::new(), values: HashMap::new(), conflict }
    }

    /// The item must not exist yet.
    pub fn absent(conflict: Conflict) -> Self {
        Self::new("attribute_not_exists(PK)", conflict)
    }

    /// The item must exist.
    pub fn present(conflict: Conflict) -> Self {
        Self::new("attribute_exists(PK)", conflict)
    }

    /// This condition and `expression` both (its placeholders added with `name` and `value`).
    pub fn and(mut self, expression: &str) -> Self {
        self.expression = format!("{} AND {expression}", self.expression);
        self
    }

    /// This condition or `expression` (its placeholders added with `name` and `value`).
    pub fn or(mut self, expression: &str) -> Self {
        self.expression = format!("({}) OR {expression}", self.expression);
        self
    }

    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }
}

/// An update expression with its placeholders.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub expression: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

#[derive(Clone, Debug)]
enum Op {
    Put(Item),
    Update(Item, Change),
    Delete(Item),
    Check(Item),
}

/// Writes that succeed or fail together.
#[derive(Default)]
pub struct Writes {
    ops: Vec<(Op, Option<Condition>)>,
}

impl Writes {
    pub fn put(&mut self, item: Item, condition: Option<Condition>) -> &mut Self {
        self.ops.push((Op::Put(item), condition));
        self
    }

    pub fn update(&mut self, key: Item, change: Change, condition: Option<Condition>) -> &mut Self {
        self.ops.push((Op::Update(key, change), condition));
        self
    }

    pub fn delete(&mut self, key: Item, condition: Option<Condition>) -> &mut Self {
        self.ops.push((Op::Delete(key), condition));
        self
    }

    /// Writes nothing to the item, but the whole write fails unless `condition` holds.
    pub fn check(&mut self, key: Item, condition: Condition) -> &mut Self {
        self.ops.push((Op::Check(key), Some(condition)));
        self
    }

    /// Sends the writes in one round trip. When several conditions fail, the conflict of the
    /// first failing operation is reported, so callers list them in the order rules are judged.
    pub async fn send(self, client: &Client, table: &str) -> StoreResult<()> {
        match <[_; 1]>::try_from(self.ops) {
            Ok([(op, condition)]) if !matches!(op, Op::Check(_)) => {
                single(client, table, op, condition).await
            }
            Ok(ops) => transaction(client, table, Vec::from(ops)).await,
            Err(ops) if ops.is_empty() => Ok(()),
            Err(ops) => transaction(client, table, ops).await,
        }
    }
}

type Names = HashMap<String, String>;
type Values = HashMap<String, AttributeValue>;

/// What an operation's expressions refer to: its change's placeholders and its condition's.
struct Placeholders {
    condition: Option<String>,
    names: Option<Names>,
    values: Option<Values>,
}

fn placeholders(change: Option<&Change>, condition: Option<&Condition>) -> Placeholders {
    let mut names = Names::new();
    let mut values = Values::new();
    if let Some(change) = change {
        names.extend(change.names.clone());
        values.extend(change.values.clone());
    }
    if let Some(condition) = condition {
        names.extend(condition.names.clone());
        values.extend(condition.values.clone());
    }
    Placeholders {
        condition: condition.map(|c| c.expression.clone()),
        names: (!names.is_empty()).then_some(names),
        values: (!values.is_empty()).then_some(values),
    }
}

/// A single write's outcome: its failed condition is its conflict, any other error an outage or
/// a fault (`call_failed`).
fn outcome<T, E>(sent: Result<T, SdkError<E, HttpResponse>>, conflict: Option<Conflict>) -> StoreResult<()>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match sent {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
            Err(StoreError::Conflict(conflict.unwrap_or(Conflict::Stale)))
        }
        Err(e) => Err(call_failed(e)),
    }
}

/// One item: a conditional `PutItem`, `UpdateItem` or `DeleteItem`, half the cost of a transaction.
async fn single(client: &Client, table: &str, op: Op, condition: Option<Condition>) -> StoreResult<()> {
    let conflict = condition.as_ref().map(|c| c.conflict);
    match op {
        Op::Put(mut item) => {
            let p = placeholders(None, condition.as_ref());
            let write_id = condition.is_some().then(|| s(uuid::Uuid::now_v7().to_string()));
            if let Some(id) = &write_id {
                item.insert(keys::WRITE_ID.to_owned(), id.clone());
            }
            let sent = client
                .put_item()
                .table_name(table)
                .set_item(Some(item))
                .set_condition_expression(p.condition)
                .set_expression_attribute_names(p.names)
                .set_expression_attribute_values(p.values)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            if write_id.is_some_and(|id| already_put(&sent, &id)) {
                return Ok(());
            }
            outcome(sent, conflict)
        }
        Op::Update(key, change) => {
            let p = placeholders(Some(&change), condition.as_ref());
            let sent = client
                .update_item()
                .table_name(table)
                .set_key(Some(key))
                .update_expression(change.expression)
                .set_condition_expression(p.condition)
                .set_expression_attribute_names(p.names)
                .set_expression_attribute_values(p.values)
                .send()
                .await;
            outcome(sent, conflict)
        }
        Op::Delete(key) => {
            let p = placeholders(None, condition.as_ref());
            let sent = client
                .delete_item()
                .table_name(table)
                .set_key(Some(key))
                .set_condition_expression(p.condition)
                .set_expression_attribute_names(p.names)
                .set_expression_attribute_values(p.values)
                .send()
                .await;
            outcome(sent, conflict)
        }
        Op::Check(_) => Err(failed("a condition check needs a transaction")),
    }
}

/// Whether a conditional put failed its condition only because its own earlier attempt was
/// applied and its answer lost (a timeout, a dropped connection), so that the SDK's retry met its
/// own write: the item found carries this call's write id, which every attempt of the call
/// sends and no other call does (two writers of the same record, such as two uses of one
/// second-step code, still conflict). Transactions need no such check: DynamoDB recognises a
/// retried `TransactWriteItems` by the client request token the SDK gives every call.
fn already_put<T>(sent: &Result<T, SdkError<PutItemError, HttpResponse>>, write_id: &AttributeValue) -> bool {
    match sent {
        Err(error) => match error.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                failed.item().and_then(|found| found.get(keys::WRITE_ID)) == Some(write_id)
            }
            _ => false,
        },
        Ok(_) => false,
    }
}

async fn transaction(client: &Client, table: &str, ops: Vec<(Op, Option<Condition>)>) -> StoreResult<()> {
    let conflicts: Vec<Option<Conflict>> = ops.iter().map(|(_, c)| c.as_ref().map(|c| c.conflict)).collect();
    let items = ops
        .into_iter()
        .map(|(op, condition)| transact_item(table, op, condition))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    let mut backoff = THROTTLED_TRANSACTION_BACKOFF;
    let (error, reasons) = loop {
        let error = match client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        let reasons = cancellation_reasons(&error);
        match &reasons {
            Some(reasons) if throttled_only(reasons) && backoff <= MAX_THROTTLED_TRANSACTION_BACKOFF => {
                tokio::time::sleep(backoff).await;
                backoff *= 4;
            }
            _ => break (error, reasons),
        }
    };
    let Some(reasons) = reasons else {
        return Err(call_failed(error));
    };
    if let Some(conflict) = cancelled(&reasons, &conflicts) {
        return Err(StoreError::Conflict(conflict));
    }
    // Cancelled for throttling on one of its items: an outage like any other.
    if reasons.iter().flatten().any(|code| is_transient_code(code)) {
        return Err(StoreError::Unavailable(Box::new(error)));
    }
    Err(failed(error))
}

/// A transaction DynamoDB cancelled because an item was throttled is tried again (nothing of it
/// was applied, so a new request is safe), as the SDK retries other throttled calls: it does not
/// retry a cancellation itself. Waits 25 ms, then 100 ms.
const THROTTLED_TRANSACTION_BACKOFF: std::time::Duration = std::time::Duration::from_millis(25);
const MAX_THROTTLED_TRANSACTION_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

/// Each operation's reason of a cancelled transaction (`None`, or a code); `None` for any other
/// failure.
fn cancellation_reasons(
    error: &SdkError<TransactWriteItemsError, HttpResponse>,
) -> Option<Vec<Option<String>>> {
    match error.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => {
            Some(cancelled.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect())
        }
        _ => None,
    }
}

/// Whether a transaction was cancelled only for throttling: some item's reason is throttling,
/// and no item failed its condition or met another transaction.
fn throttled_only(reasons: &[Option<String>]) -> bool {
    let codes = || reasons.iter().flatten().map(String::as_str);
    codes().any(is_transient_code) && codes().all(|code| code == "None" || is_transient_code(code))
}

/// The conflict a cancelled transaction stands for, from its per-operation reasons: the first
/// failed condition, else the first operation that raced another transaction. `None` when the
/// cancellation had another cause (throttling, validation), which is not a conflict.
fn cancelled(reasons: &[Option<String>], conflicts: &[Option<Conflict>]) -> Option<Conflict> {
    let first = |code: &str| reasons.iter().position(|r| r.as_deref() == Some(code));
    if let Some(at) = first("ConditionalCheckFailed") {
        return Some(conflicts.get(at).copied().flatten().unwrap_or(Conflict::Stale));
    }
    first("TransactionConflict").map(|at| conflicts.get(at).copied().flatten().unwrap_or(Conflict::Stale))
}

fn transact_item(
    table: &str,
    op: Op,
    condition: Option<Condition>,
) -> Result<TransactWriteItem, aws_sdk_dynamodb::error::BuildError> {
    let item = TransactWriteItem::builder();
    Ok(match op {
        Op::Put(value) => {
            let p = placeholders(None, condition.as_ref());
            item.put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(value))
                    .set_condition_expression(p.condition)
                    .set_expression_attribute_names(p.names)
                    .set_expression_attribute_values(p.values)
                    .build()?,
            )
        }
        Op::Update(key, change) => {
            let p = placeholders(Some(&change), condition.as_ref());
            item.update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .update_expression(change.expression)
                    .set_condition_expression(p.condition)
                    .set_expression_attribute_names(p.names)
                    .set_expression_attribute_values(p.values)
                    .build()?,
            )
        }
        Op::Delete(key) => {
            let p = placeholders(None, condition.as_ref());
            item.delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(p.condition)
                    .set_expression_attribute_names(p.names)
                    .set_expression_attribute_values(p.values)
                    .build()?,
            )
        }
        Op::Check(key) => {
            let p = placeholders(None, condition.as_ref());
            item.condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(p.condition)
                    .set_expression_attribute_names(p.names)
                    .set_expression_attribute_values(p.values)
                    .build()?,
            )
        }
    }
    .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<Option<String>> {
        codes.iter().map(|c| (*c != "None").then(|| (*c).to_owned())).collect()
    }

    #[test]
    fn the_first_failed_condition_names_the_conflict() {
        let conflicts = [Some(Conflict::AlreadyMember), None, Some(Conflict::EmailTaken)];
        let codes = reasons(&["None", "None", "ConditionalCheckFailed"]);
        assert_eq!(cancelled(&codes, &conflicts), Some(Conflict::EmailTaken));
        let codes = reasons(&["ConditionalCheckFailed", "None", "ConditionalCheckFailed"]);
        assert_eq!(cancelled(&codes, &conflicts), Some(Conflict::AlreadyMember));
    }

    #[test]
    fn a_race_with_another_transaction_is_a_conflict_and_throttling_is_not() {
        let conflicts = [Some(Conflict::TokenSpent), None];
        assert_eq!(
            cancelled(&reasons(&["TransactionConflict", "None"]), &conflicts),
            Some(Conflict::TokenSpent)
        );
        assert_eq!(cancelled(&reasons(&["None", "TransactionConflict"]), &conflicts), Some(Conflict::Stale));
        assert_eq!(cancelled(&reasons(&["ThrottlingError", "None"]), &conflicts), None);
    }
}
