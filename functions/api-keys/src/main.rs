//! Lambda function for an account's API keys: create, list, rotate, revoke.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::ApiKeys).await
}
