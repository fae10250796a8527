//! Lambda function that changes members' roles and transfers ownership.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::SetRole.scope() }>().await
}
