//! Rate limits: counted per key and window.

use std::sync::Arc;

use shared::ports::RateDecision;

use super::*;

pub(crate) async fn rate_limits_count_per_key_and_window(store: Arc<dyn Store>) {
    let start = DateTime::from_timestamp(1_800_000_000, 0).expect("a valid instant");
    let key = format!("sign-in:{}", uuid::Uuid::new_v4());
    let hit = |at: DateTime<Utc>, key: String| {
        let store = store.clone();
        async move { store.hit_rate_limit(&key, 2, 60, at).await.expect("counted") }
    };
    assert_eq!(hit(start, key.clone()).await, RateDecision::Allowed);
    assert_eq!(hit(start + Duration::seconds(10), key.clone()).await, RateDecision::Allowed);
    let limited = hit(start + Duration::seconds(15), key.clone()).await;
    assert_eq!(limited, RateDecision::Limited { retry_after_seconds: 45 });
    assert_eq!(hit(start + Duration::seconds(15), format!("{key}-other")).await, RateDecision::Allowed);
    assert_eq!(hit(start + Duration::seconds(60), key).await, RateDecision::Allowed, "a new window");
}
