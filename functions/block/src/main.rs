//! Lambda function that blocks, unblocks and removes members.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::Block).await
}
