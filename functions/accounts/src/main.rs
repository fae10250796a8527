//! Lambda function for the operator's account routes.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::Accounts).await
}
