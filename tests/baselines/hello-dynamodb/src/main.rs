//! A hello that, at init, builds the DynamoDB client every Teamgate function builds and primes
//! it with one `GetItem`, as they do: `make bench` compares the cold starts of the functions
//! that prime with this one's.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "teamgate".into());
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").ok();
    shared::config::dynamo_store(&table, endpoint.as_deref())?.prime().await;
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"hello": "world"}))
    }))
    .await
}
