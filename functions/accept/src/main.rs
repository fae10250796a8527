//! Lambda function that inspects and accepts invitation links.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::Accept.scope() }>().await
}
