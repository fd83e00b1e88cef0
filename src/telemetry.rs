//! What a request measures on its way, for its metrics: time spent in DynamoDB and
//! whether the project cache answered. Per request (a task-local the handler scopes);
//! outside a request (the admin CLI) nothing is recorded.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Time in DynamoDB calls; `None`: no call was made.
    pub dynamodb: Option<Duration>,
    /// Whether the project/flow lookup was answered by the cache; `None`: no lookup.
    pub cache_hit: Option<bool>,
}

tokio::task_local! {
    static STATS: RefCell<Stats>;
}

/// Runs `work` with its own stats, and returns them with its output.
pub async fn measured<F: Future>(work: F) -> (F::Output, Stats) {
    STATS
        .scope(RefCell::new(Stats::default()), async {
            let output = work.await;
            (output, STATS.with(|s| *s.borrow()))
        })
        .await
}

/// Adds one DynamoDB call's time.
pub fn dynamodb(took: Duration) {
    let _ = STATS.try_with(|s| {
        let mut s = s.borrow_mut();
        s.dynamodb = Some(s.dynamodb.unwrap_or_default() + took);
    });
}

/// Records whether the cache answered the project/flow lookup.
pub fn cache(hit: bool) {
    let _ = STATS.try_with(|s| s.borrow_mut().cache_hit = Some(hit));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn per_request_and_ignored_outside() {
        dynamodb(Duration::from_millis(5));
        let ((), stats) = measured(async {
            dynamodb(Duration::from_millis(2));
            dynamodb(Duration::from_millis(3));
            cache(true);
        })
        .await;
        assert_eq!(stats.dynamodb, Some(Duration::from_millis(5)));
        assert_eq!(stats.cache_hit, Some(true));
        let ((), none) = measured(async {}).await;
        assert_eq!(none, Stats::default());
    }
}
