//! Lambda function fed by the table's stream: every audit event onto the EventBridge bus.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::publisher().await
}
