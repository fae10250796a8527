//! Lambda function for the activation and reset pages and the public signing keys.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::Web).await
}
