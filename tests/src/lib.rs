//! Test harness: a running Teamgate on a loopback port, and helpers that read like the steps a
//! person takes (create an account, open the emailed link, sign in).

pub mod app;
pub mod emulators;

/// Runs each named scenario `async fn name(app: TestApp)` twice: on the embedded defaults
/// (`embedded::name`) and on DynamoDB Local with SES through moto (`on_aws_emulators::name`),
/// so the embedded store and outbox are held to the real services' behaviour.
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::app::spawn_app().await).await
                }
            )*
        }
        mod on_aws_emulators {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::app::spawn_app_on_aws().await).await
                }
            )*
        }
    };
}
