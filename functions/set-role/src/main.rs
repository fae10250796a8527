//! Lambda function that changes members' roles and transfers ownership.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::SetRole).await
}
