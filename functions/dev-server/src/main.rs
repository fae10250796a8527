//! The dev server behind `make run`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::runtime::dev_server().await
}
