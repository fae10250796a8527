//! Lambda function for signing in, refreshing and signing out.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::Session).await
}
