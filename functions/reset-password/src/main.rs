//! Lambda function for password reset, password change and the caller's profile.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::ResetPassword).await
}
