//! Lambda function for signing in, refreshing and signing out.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::Session.scope() }>().await
}
