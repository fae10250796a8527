//! Test harness: a running Teamgate on a loopback port, and helpers that read like the steps a
//! person takes (create an account, open the emailed link, sign in).

pub mod app;
pub mod authorizer_events;
pub mod browser;
pub mod emulators;
pub mod faults;
pub mod lambda_runtime;
pub mod route_tour;
pub mod streams;
pub mod workspace;

/// Fails when a check found differences, listing every one: checks collect all they find first,
/// so that one run shows everything to fix, not just the first.
#[track_caller]
pub fn assert_no_differences(what: &str, differences: Vec<String>) {
    assert!(
        differences.is_empty(),
        "{what}: {} difference(s):\n  {}",
        differences.len(),
        differences.join("\n  ")
    );
}

/// Runs each named scenario `async fn name(app: TestApp)` twice: on the embedded defaults
/// (`embedded::name`) and on DynamoDB Local with SES through moto (`on_aws_emulators::name`),
/// so the embedded store and outbox are held to the real services' behaviour.
#[macro_export]
macro_rules! scenarios {
    (settings: $adjust:expr; $($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::app::spawn_app_with($adjust).await).await
                }
            )*
        }
        mod on_aws_emulators {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::app::spawn_app_on_aws_with($adjust).await).await
                }
            )*
        }
    };
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
