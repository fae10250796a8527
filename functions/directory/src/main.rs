//! Lambda function for reading accounts, roles, members, invitations and the caller's profile.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::Directory.scope() }>().await
}
