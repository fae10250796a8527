//! Lambda function for reading accounts, roles, members, invitations and the caller's profile.

#[tokio::main]
async fn main() -> Result<(), shared::runtime::LambdaError> {
    shared::runtime::lambda(shared::http::routes::Function::Directory).await
}
