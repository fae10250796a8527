//! Lambda function for an account's API keys: create, list, rotate, revoke.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::ApiKeys.scope() }>().await
}
