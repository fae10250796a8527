//! Lambda authorizer for the marketplace's own APIs: Teamgate's permissions, read live.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::authorizer().await
}
