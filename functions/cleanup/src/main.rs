//! Scheduled Lambda function that expires lapsed invitations (EventBridge schedule).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::cleanup().await
}
