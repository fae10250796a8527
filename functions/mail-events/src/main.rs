//! Lambda function fed SES's bounces, complaints and deliveries by an EventBridge rule: each
//! recorded on its invitation.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::mail_events().await
}
