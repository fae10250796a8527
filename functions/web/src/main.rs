//! Lambda function for the activation and reset pages and the public signing keys.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::Web.scope() }>().await
}
