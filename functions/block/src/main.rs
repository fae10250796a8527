//! Lambda function that blocks, unblocks and removes members.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::Block.scope() }>().await
}
