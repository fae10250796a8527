//! Lambda function that sends invitations.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::Invite.scope() }>().await
}
