//! Lambda function for password reset, password change and the caller's profile.

use shared::http::routes::Function;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda::<{ Function::ResetPassword.scope() }>().await
}
