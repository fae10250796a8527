//! Lambda function that inspects and accepts invitation links.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::Accept).await
}
