//! Prometheus metrics of this node. Every layer records through the `metrics` facade
//! under the names below (the one list of them, with their help texts), and `/metrics`
//! renders what was recorded with metrics-exporter-prometheus. Depends on neither axum
//! nor sea-orm; recording before the recorder is installed (or in a process without it)
//! costs nothing and keeps nothing.

use std::sync::OnceLock;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP requests answered, by `method`, `route` (the route's template, e.g.
/// `/api/v1/cases/{id}`) and `status`.
pub const HTTP_REQUESTS: &str = "beraad_http_requests_total";
/// Time from a request's arrival to its answer's head, by `method` and `route`.
pub const HTTP_DURATION: &str = "beraad_http_request_duration_seconds";
/// Time of one database statement, by `outcome` (`ok` or `error`).
pub const DB_QUERY_DURATION: &str = "beraad_db_query_duration_seconds";
/// Time a write waits for its transaction: the SQLite writer gate and a pooled
/// connection.
pub const DB_WRITE_WAIT: &str = "beraad_db_write_wait_seconds";
/// Time to get a pooled database connection, apart from any statement, by `for`:
/// `write` (a write transaction's start) or `probe` (a connection taken and given back
/// once a second, as a read would wait for one; with `outcome`).
pub const DB_POOL_WAIT: &str = "beraad_db_pool_wait_seconds";
/// Pooled database connections now, by `state` (`in_use`, `idle`).
pub const DB_POOL_CONNECTIONS: &str = "beraad_db_pool_connections";
/// The most connections the pool may open (BERAAD_DB_MAX_CONNECTIONS).
pub const DB_POOL_MAX: &str = "beraad_db_pool_max_connections";
/// Moderation queues now, by `municipality` (its slug) and `queue` (`held`, `flagged`;
/// read at each scrape).
pub const MODERATION_QUEUE: &str = "beraad_moderation_queue";
/// Requests refused by a limit, by `limit` (`post`, `reply`, `weighing`, `flag`,
/// `login_address`, `login_node`, `login_account`).
pub const RATE_LIMITED: &str = "beraad_rate_limited_total";
/// Time of one Redis PUBLISH (a doorbell to the other nodes), by `outcome`.
pub const REDIS_PUBLISH_DURATION: &str = "beraad_redis_publish_duration_seconds";
/// Connections made to Redis, by `connection` (`publish`, `subscribe`): more than one
/// each means reconnects.
pub const REDIS_CONNECTS: &str = "beraad_redis_connects_total";
/// Whether the subscription to Redis is up (1) or being re-established (0).
pub const REDIS_SUBSCRIBED: &str = "beraad_redis_subscribed";
/// Topics WebSocket clients subscribed to, by `topic` (`case`, `moderation`).
pub const WS_SUBSCRIPTIONS: &str = "beraad_ws_subscriptions_total";
/// Posts held for a moderator, in every municipality (read at each scrape).
pub const POSTS_HELD: &str = "beraad_posts_held";
/// Time from a change's commit to its fan-out to this node's live clients.
pub const DELIVERY_LAG: &str = "beraad_delivery_lag_seconds";
/// Open WebSocket connections.
pub const WS_CONNECTIONS: &str = "beraad_ws_connections";
/// Cases followed live on this node.
pub const ROOMS: &str = "beraad_rooms";
/// Case events fanned out.
pub const EVENTS: &str = "beraad_events_total";
/// Frames queued to connections.
pub const DELIVERIES: &str = "beraad_deliveries_total";
/// Connections told to resync for falling behind.
pub const RESYNCS: &str = "beraad_resyncs_total";

/// Notification e-mails handed to the mail server, by `outcome` (`sent`, `failed`).
pub const MAIL: &str = "beraad_mail_total";

/// Every metric of this node.
pub const ALL: [&str; 21] = [
    MAIL,
    DB_POOL_WAIT,
    DB_POOL_CONNECTIONS,
    DB_POOL_MAX,
    MODERATION_QUEUE,
    DELIVERY_LAG,
    REDIS_PUBLISH_DURATION,
    REDIS_CONNECTS,
    REDIS_SUBSCRIBED,
    WS_SUBSCRIPTIONS,
    POSTS_HELD,
    HTTP_REQUESTS,
    HTTP_DURATION,
    DB_QUERY_DURATION,
    DB_WRITE_WAIT,
    RATE_LIMITED,
    WS_CONNECTIONS,
    ROOMS,
    EVENTS,
    DELIVERIES,
    RESYNCS,
];

/// Histogram buckets for every `…_seconds` metric: 1 ms to 10 s.
const SECONDS_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use (the router asks for it when it is
/// built). `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
        .ok()?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).ok()?;
    describe();
    Some(handle)
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route."
    );
    describe_histogram!(
        DB_QUERY_DURATION,
        Unit::Seconds,
        "Time of one database statement, by outcome."
    );
    describe_histogram!(
        DB_WRITE_WAIT,
        Unit::Seconds,
        "Time a write waited for its transaction (writer gate and pool)."
    );
    describe_histogram!(
        DB_POOL_WAIT,
        Unit::Seconds,
        "Time to get a pooled database connection, apart from statements, by for (write, probe)."
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Pooled database connections, by state (in_use, idle)."
    );
    describe_gauge!(
        DB_POOL_MAX,
        "The most connections the database pool may open."
    );
    describe_gauge!(
        MODERATION_QUEUE,
        "Moderation queue sizes, by municipality and queue (held, flagged)."
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests refused by a rate limit or login throttle, by limit."
    );
    describe_histogram!(
        REDIS_PUBLISH_DURATION,
        Unit::Seconds,
        "Time of one Redis PUBLISH, by outcome."
    );
    describe_counter!(
        REDIS_CONNECTS,
        "Connections made to Redis, by connection (publish, subscribe)."
    );
    describe_gauge!(
        REDIS_SUBSCRIBED,
        "Whether the Redis subscription is up (1) or reconnecting (0)."
    );
    describe_counter!(
        WS_SUBSCRIPTIONS,
        "Topics WebSocket clients subscribed to, by topic kind."
    );
    describe_gauge!(
        POSTS_HELD,
        "Posts held for a moderator, all municipalities."
    );
    describe_histogram!(
        DELIVERY_LAG,
        Unit::Seconds,
        "Time from a change's commit to its fan-out to this node's live clients."
    );
    describe_gauge!(WS_CONNECTIONS, "Open WebSocket connections.");
    describe_gauge!(ROOMS, "Cases followed live on this node.");
    describe_counter!(EVENTS, "Case events fanned out.");
    describe_counter!(DELIVERIES, "Frames queued to connections.");
    describe_counter!(RESYNCS, "Connections told to resync for falling behind.");
    describe_counter!(
        MAIL,
        "Notification e-mails handed to the mail server, by outcome (sent, failed)."
    );
}

/// A notification e-mail the mail server accepted.
pub fn mail_sent() {
    metrics::counter!(MAIL, "outcome" => "sent").increment(1);
}

/// A notification e-mail the mail server refused or could not be reached for.
pub fn mail_failed() {
    metrics::counter!(MAIL, "outcome" => "failed").increment(1);
}

/// A refusal by the limit named `limit`.
pub fn rate_limited(limit: &'static str) {
    metrics::counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// The text of every metric in Prometheus' exposition format.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `beraad_…` names a text uses, without the histogram suffixes.
    fn names(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, _) in text.match_indices("beraad_") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let name = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .map_or(name.clone(), str::to_owned);
            out.push(name);
        }
        out
    }

    #[test]
    fn the_dashboard_and_the_alerts_name_only_metrics_we_record() {
        let alerts = include_str!("../../deploy/prometheus/alerts.yml");
        let dashboard = include_str!("../../deploy/grafana/beraad.json");
        for (file, text) in [("alerts.yml", alerts), ("beraad.json", dashboard)] {
            let used = names(text);
            assert!(used.len() >= 5, "{file}: {used:?}");
            for name in used {
                assert!(
                    ALL.contains(&name.as_str()),
                    "{file} names {name}, which nothing records"
                );
            }
        }
    }

    #[test]
    fn every_metric_is_rendered_with_its_help() {
        let Some(handle) = handle() else {
            panic!("another recorder is installed");
        };
        metrics::counter!(HTTP_REQUESTS, "method" => "GET", "route" => "/t", "status" => "200")
            .increment(1);
        rate_limited("post");
        let text = handle.render();
        assert!(text.contains("# HELP beraad_http_requests_total"), "{text}");
        assert!(
            text.contains("beraad_rate_limited_total{limit=\"post\"}"),
            "{text}"
        );
    }
}
