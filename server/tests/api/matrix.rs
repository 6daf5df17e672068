//! The authorisation matrix: every route of the JSON API, asked by every kind of actor
//! about resources of their own panel, of another panel of their municipality and of
//! another municipality, with the expected answer of every cell in one table
//! ([`rows`]).
//!
//! The table is held against the router itself (`http/routes/mod.rs`): a route added
//! without a row, or a row for a route that is gone, fails the test. Beyond the status,
//! every cell checks two things a status cannot show: a `404` must be the very answer a
//! missing id gets (so another tenant's ids leak nothing), and no answer may hold a text
//! the actor may not read (the title of a case they cannot see, the text of someone
//! else's held post).

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use beraad::service::AuditContext;
use beraad::service::ServiceSettings;
use beraad::service::policy::Actor;
use beraad::service::ratelimit::RateLimits;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Client, Engine, TestApp, Ws, case_body, create_case};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    authorisation_matrix(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    authorisation_matrix(Engine::Postgres).await;
}

/// Who asks: one column of the table each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// No session.
    Anon,
    /// Panelist of Utrecht's panel A (the fixture's own panel; author of `post_own`).
    PanelA,
    /// Panelist of Utrecht's panel B: same municipality, another panel.
    PanelB,
    /// Utrecht's moderator, analyst and admin.
    ModU,
    AnaU,
    AdmU,
    /// Zoetermeer's panelist, moderator, analyst and admin: another municipality.
    PanelZ,
    ModZ,
    AnaZ,
    AdmZ,
}

/// The columns of the table, in this order.
const WHO: [Who; 10] = [
    Who::Anon,
    Who::PanelA,
    Who::PanelB,
    Who::ModU,
    Who::AnaU,
    Who::AdmU,
    Who::PanelZ,
    Who::ModZ,
    Who::AnaZ,
    Who::AdmZ,
];

/// Texts in the fixture that only some actors may read; every answer is searched for
/// them. Staff of a municipality read everything of it; a panelist the cases put before
/// their panel and what is visible in them, plus their own posts.
const SECRETS: [(&str, &[Who]); 10] = [
    ("zzkoekoek", &[Who::PanelA, Who::ModU, Who::AnaU, Who::AdmU]),
    ("zzreiger", &[Who::PanelB, Who::ModU, Who::AnaU, Who::AdmU]),
    ("zzfuut", &[Who::ModU, Who::AnaU, Who::AdmU]),
    ("zzlijster", &[Who::PanelA, Who::ModU, Who::AnaU, Who::AdmU]),
    ("zzspreeuw", &[Who::PanelA, Who::ModU, Who::AnaU, Who::AdmU]),
    ("zzwielewaal", &[Who::ModU, Who::AnaU, Who::AdmU]),
    (
        "zzroodborst",
        &[Who::PanelB, Who::ModU, Who::AnaU, Who::AdmU],
    ),
    ("zzmerel", &[Who::PanelZ, Who::ModZ, Who::AnaZ, Who::AdmZ]),
    ("zzgrutto", &[Who::PanelZ, Who::ModZ, Who::AnaZ, Who::AdmZ]),
    ("zzijsvogel", &[Who::ModZ, Who::AnaZ, Who::AdmZ]),
];

/// Stands in for every id of the fixture when asking for something that does not exist.
const MISSING_ID: &str = "999999999";
/// Stands in for the municipality's slug likewise.
const MISSING_SLUG: &str = "nergens";

/// The fixture's ids by name, for the `{name}` placeholders of the table.
#[derive(Clone)]
struct Names(HashMap<&'static str, String>);

impl Names {
    fn get(&self, name: &str) -> &str {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no fixture name {name}"))
    }

    fn id(&self, name: &str) -> i64 {
        self.get(name).parse().expect("an id")
    }

    /// `template` with every `{name}` replaced.
    /// The same names with `{who}`: the actor of the cell.
    fn of(&self, who: Who) -> Names {
        let mut names = self.clone();
        names.0.insert("who", format!("{who:?}").to_lowercase());
        names
    }

    fn fill(&self, template: &str) -> String {
        let mut out = template.to_owned();
        for (k, v) in &self.0 {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        assert!(!out.contains("{"), "unknown placeholder in {template}");
        out
    }

    /// The same names, each standing for something that does not exist.
    fn missing(&self) -> Names {
        Names(
            self.0
                .iter()
                .map(|(k, v)| {
                    let stand_in = if *k == "muni" {
                        MISSING_SLUG.to_owned()
                    } else if v.parse::<i64>().is_ok() {
                        MISSING_ID.to_owned()
                    } else {
                        v.clone()
                    };
                    (*k, stand_in)
                })
                .collect(),
        )
    }
}

/// One row: a route, what it is asked about, and the answer each column expects.
struct Row {
    method: Method,
    /// The route as the router names it, under `/api/v1`.
    route: &'static str,
    /// The request: path and query with fixture names, or for `/ws` the topic.
    at: &'static str,
    /// The JSON body, if any.
    body: Option<fn(&Names) -> Value>,
    /// Expected status per column of [`WHO`]. For `/ws`: `401` the upgrade is refused,
    /// `200` the topic is followed, `404` the subscribe is refused exactly like one for a
    /// topic that does not exist (the protocol has one refusal, `forbidden`).
    expect: [u16; 10],
}

fn row(method: Method, route: &'static str, at: &'static str, expect: [u16; 10]) -> Row {
    Row {
        method,
        route,
        at,
        body: None,
        expect,
    }
}

impl Row {
    fn body(mut self, body: fn(&Names) -> Value) -> Row {
        self.body = Some(body);
        self
    }
}

/// **The table.** Fixture (built by [`fixture`]):
///
/// - Utrecht (`{muni}`) has panel A and panel B. `case_a` is open before panel A,
///   `case_b` open before panel B only, `case_d` a draft before panel A, `case_c` closed,
///   `case_k` open and `case_o` a draft (both before panel A, for the close and open
///   cells).
/// - In `case_a`: `post_own` (PanelA's reaction), its replies `post_edit` and
///   `post_withdraw`, `post_other` (another panel A member's reaction) and `post_held`
///   (that member's reply, held for a moderator). In `case_b`: `post_b` (PanelB's).
/// - `panelist_a` is PanelA's id.
/// - Zoetermeer's `case_z` holds `post_z` (its panelist's) and `post_z_held`.
///
/// Zoetermeer's columns are the "other municipality" of every Utrecht resource, and a
/// few rows ask about Zoetermeer's resources the other way round. Rows
/// that change something either fail after access was granted (a `409` or `422` whose
/// cause is named) or succeed once on a throwaway object, so every cell sees the same
/// fixture; cells run in table order, left to right.
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Method as M;
    vec![
        //                                                  anon  pA   pB  modU anaU admU  pZ  modZ anaZ admZ
        // Public.
        row(M::GET, "/openapi.json", "/openapi.json", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        // Live topics.
        row(M::GET, "/ws", "case:{case_a}", [401, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/ws", "case:{case_b}", [401, 404, 200, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/ws", "case:{case_d}", [401, 404, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/ws", "moderation:{muni}", [401, 404, 404, 200, 404, 200, 404, 404, 404, 404]),
        // Sessions: logins with credentials that match nobody (an address per actor, as
        // failures on one address slow its logins down); logout is the table's last row.
        row(M::POST, "/auth/invite", "/auth/invite", [401, 401, 401, 401, 401, 401, 401, 401, 401, 401])
            .body(|_| json!({"code": "AAAA-BBBB-CCCCC"})),
        row(M::POST, "/auth/login", "/auth/login", [401, 401, 401, 401, 401, 401, 401, 401, 401, 401])
            .body(|n| json!({"email": format!("niemand-{}@nergens.test", n.get("who")), "password": "een-fout-wachtwoord"})),
        row(M::GET, "/auth/session", "/auth/session", [401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        // A new password that is too short: 422 once the staff member is recognised.
        row(M::POST, "/auth/password", "/auth/password", [401, 403, 403, 422, 422, 422, 403, 422, 422, 422])
            .body(|_| json!({"current": crate::helpers::STAFF_PASSWORD, "new": "kort"})),
        row(M::GET, "/me/profile", "/me/profile", [401, 200, 200, 403, 403, 403, 200, 403, 403, 403]),
        row(M::PUT, "/me/profile", "/me/profile", [401, 200, 200, 403, 403, 403, 200, 403, 403, 403])
            .body(|_| json!({"consent": false})),
        // Notifications: a panelist's own address (a malformed one is 422 and stores
        // nothing; removing none is harmless); the links need no session and refuse a
        // token that is not signed.
        row(M::GET, "/me/notifications", "/me/notifications", [401, 200, 200, 403, 403, 403, 200, 403, 403, 403]),
        row(M::PUT, "/me/notifications", "/me/notifications", [401, 422, 422, 403, 403, 403, 422, 403, 403, 403])
            .body(|_| json!({"email": "geen-adres", "kinds": [], "frequency": "direct"})),
        row(M::DELETE, "/me/notifications", "/me/notifications", [401, 204, 204, 403, 403, 403, 204, 403, 403, 403]),
        row(M::POST, "/notifications/confirm", "/notifications/confirm", [422, 422, 422, 422, 422, 422, 422, 422, 422, 422])
            .body(|_| json!({"token": "bm9nIGVlbg.dmFsc2U"})),
        row(M::POST, "/notifications/unsubscribe", "/notifications/unsubscribe", [422, 422, 422, 422, 422, 422, 422, 422, 422, 422])
            .body(|_| json!({"token": "bm9nIGVlbg.dmFsc2U"})),
        // Cases. Panelists' lists ignore the municipality filter.
        row(M::GET, "/cases", "/cases", [401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        row(M::GET, "/cases", "/cases?municipality={muni}", [401, 200, 200, 200, 200, 200, 200, 404, 404, 404]),
        row(M::POST, "/cases", "/cases", [401, 403, 403, 403, 403, 201, 404, 404, 404, 404])
            .body(|n| case_body(n.get("muni"), json!({"title": "Nieuwe casus uit de matrix", "panels": [n.get("muni")]}))),
        row(M::GET, "/cases/{id}", "/cases/{case_a}", [401, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}", "/cases/{case_b}", [401, 404, 200, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}", "/cases/{case_d}", [401, 404, 404, 200, 200, 200, 404, 404, 404, 404]),
        // The draft keeps its title; an open case's texts can no longer change (409).
        row(M::PATCH, "/cases/{id}", "/cases/{case_d}", [401, 404, 404, 403, 403, 200, 404, 404, 404, 404])
            .body(|n| json!({"title": n.get("title_d")})),
        row(M::PATCH, "/cases/{id}", "/cases/{case_a}", [401, 403, 404, 403, 403, 409, 404, 404, 404, 404])
            .body(|_| json!({"title": "Een andere titel"})),
        // An opening time in the past: 422 once access is granted.
        row(M::POST, "/cases/{id}/schedule", "/cases/{case_d}/schedule", [401, 404, 404, 403, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({"opens_at": "2020-01-01T09:00:00Z"})),
        row(M::POST, "/cases/{id}/schedule", "/cases/{case_a}/schedule", [401, 403, 404, 403, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({"opens_at": "2020-01-01T09:00:00Z"})),
        row(M::POST, "/cases/{id}/open", "/cases/{case_o}/open", [401, 404, 404, 403, 403, 200, 404, 404, 404, 404]),
        row(M::POST, "/cases/{id}/open", "/cases/{case_a}/open", [401, 403, 404, 403, 403, 409, 404, 404, 404, 404]),
        row(M::POST, "/cases/{id}/close", "/cases/{case_k}/close", [401, 403, 404, 403, 403, 200, 404, 404, 404, 404]),
        row(M::POST, "/cases/{id}/close", "/cases/{case_d}/close", [401, 404, 404, 403, 403, 409, 404, 404, 404, 404]),
        // Moving the closing time: only while open (a draft answers 409).
        row(M::PUT, "/cases/{id}/closing", "/cases/{case_a}/closing", [401, 403, 404, 403, 403, 200, 404, 404, 404, 404])
            .body(|_| json!({"closes_at": "2099-06-01T17:00:00Z"})),
        row(M::PUT, "/cases/{id}/closing", "/cases/{case_d}/closing", [401, 404, 404, 403, 403, 409, 404, 404, 404, 404])
            .body(|_| json!({"closes_at": null})),
        row(M::GET, "/cases/{id}/events", "/cases/{case_a}/events", [401, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/events", "/cases/{case_b}/events", [401, 404, 200, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/events", "/cases/{case_d}/events", [401, 404, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/export", "/cases/{case_a}/export", [401, 403, 404, 403, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/export", "/cases/{case_b}/export?format=csv", [401, 404, 403, 403, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/export", "/cases/{case_d}/export", [401, 404, 404, 403, 200, 200, 404, 404, 404, 404]),
        row(M::HEAD, "/cases/{id}/export", "/cases/{case_a}/export", [401, 403, 404, 403, 200, 200, 404, 404, 404, 404]),
        row(M::HEAD, "/cases/{id}/export", "/cases/{case_b}/export", [401, 404, 403, 403, 200, 200, 404, 404, 404, 404]),
        row(M::HEAD, "/cases/{id}/export", "/cases/{case_d}/export", [401, 404, 404, 403, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/analysis", "/cases/{case_a}/analysis", [401, 403, 404, 403, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/analysis", "/cases/{case_b}/analysis", [401, 404, 403, 403, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/analysis", "/cases/{case_d}/analysis", [401, 404, 404, 403, 200, 200, 404, 404, 404, 404]),
        // The draw: admins of the municipality, until the case opens (409 after).
        row(M::POST, "/cases/{id}/draw", "/cases/{case_d}/draw", [401, 404, 404, 403, 403, 201, 404, 404, 404, 404])
            .body(|_| json!({"size": 1, "seed": "matrix"})),
        row(M::POST, "/cases/{id}/draw", "/cases/{case_a}/draw", [401, 403, 404, 403, 403, 409, 404, 404, 404, 404])
            .body(|_| json!({"size": 1, "seed": "matrix"})),
        row(M::GET, "/cases/{id}/draw", "/cases/{case_d}/draw", [401, 404, 404, 403, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/draw/verify", "/cases/{case_d}/draw/verify", [401, 404, 404, 403, 403, 200, 404, 404, 404, 404]),
        row(M::POST, "/cases/{id}/draw/top-up", "/cases/{case_d}/draw/top-up", [401, 404, 404, 403, 403, 200, 404, 404, 404, 404])
            .body(|_| json!({"days": 30})),
        row(M::GET, "/cases/{id}/pool", "/cases/{case_d}/pool", [401, 404, 404, 403, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/pool", "/cases/{case_a}/pool", [401, 403, 404, 403, 403, 200, 404, 404, 404, 404]),
        // Announcements to a case's panel and its outbox: the municipality's admins.
        row(M::POST, "/cases/{id}/announcements", "/cases/{case_a}/announcements", [401, 403, 404, 403, 403, 201, 404, 404, 404, 404])
            .body(|_| json!({"kind": "herinnering"})),
        row(M::GET, "/cases/{id}/outbox", "/cases/{case_a}/outbox", [401, 403, 404, 403, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/municipalities/{municipality}/population", "/municipalities/{muni}/population", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        row(M::PUT, "/municipalities/{municipality}/population", "/municipalities/{muni}/population", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404])
            .body(|_| json!([{"feature": "age_band", "value": "18-34", "share": 1.0}])),
        // The outcome exists once a case closed (409 before).
        row(M::GET, "/cases/{id}/outcome", "/cases/{case_c}/outcome", [401, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/outcome", "/cases/{case_a}/outcome", [401, 409, 404, 409, 409, 409, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/outcome", "/cases/{case_b}/outcome", [401, 404, 409, 409, 409, 409, 404, 404, 404, 404]),
        // The thread.
        row(M::GET, "/cases/{id}/posts", "/cases/{case_a}/posts", [401, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/posts", "/cases/{case_b}/posts", [401, 404, 200, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/posts", "/cases/{case_d}/posts", [401, 404, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/cases/{id}/posts", "/cases/{case_z}/posts", [401, 404, 404, 404, 404, 404, 200, 200, 200, 200]),
        // Staff do not post (403 `panelists_only`).
        row(M::POST, "/cases/{id}/posts", "/cases/{case_a}/posts", [401, 201, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|n| json!({"parent_id": n.id("post_other"), "body": "Een antwoord uit de matrix."})),
        // Nobody but its author and staff may answer a held post (409 `parent_unavailable`).
        row(M::POST, "/cases/{id}/posts", "/cases/{case_a}/posts", [401, 409, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|n| json!({"parent_id": n.id("post_held"), "body": "Een antwoord op iets verborgens."})),
        row(M::POST, "/cases/{id}/posts", "/cases/{case_b}/posts", [401, 404, 201, 403, 403, 403, 404, 404, 404, 404])
            .body(|n| json!({"parent_id": n.id("post_b"), "body": "Een antwoord van panel B."})),
        row(M::POST, "/cases/{id}/posts", "/cases/{case_d}/posts", [401, 404, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"verdict": "eens", "body": "Een reactie op een concept."})),
        row(M::POST, "/cases/{id}/posts/check", "/cases/{case_a}/posts/check", [401, 200, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"body": "Mag ik dit zo opschrijven?"})),
        row(M::POST, "/cases/{id}/posts/check", "/cases/{case_b}/posts/check", [401, 404, 200, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"body": "Mag ik dit zo opschrijven?"})),
        // Posts. A held post shows to others without its text (the secrets check).
        row(M::GET, "/posts/{id}", "/posts/{post_own}", [401, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/posts/{id}", "/posts/{post_held}", [401, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/posts/{id}", "/posts/{post_b}", [401, 404, 200, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/posts/{id}", "/posts/{post_z_held}", [401, 404, 404, 404, 404, 404, 200, 200, 200, 200]),
        row(M::PATCH, "/posts/{id}", "/posts/{post_edit}", [401, 200, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"body": "Mijn antwoord, aangepast in de matrix."})),
        row(M::PATCH, "/posts/{id}", "/posts/{post_other}", [401, 403, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"body": "Iemand anders zijn bericht aanpassen."})),
        // Too short a text for its author: 422 once access is granted.
        row(M::PATCH, "/posts/{id}", "/posts/{post_b}", [401, 404, 422, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"body": "kort"})),
        row(M::POST, "/posts/{id}/withdraw", "/posts/{post_withdraw}/withdraw", [401, 200, 404, 403, 403, 403, 404, 404, 404, 404]),
        row(M::POST, "/posts/{id}/withdraw", "/posts/{post_other}/withdraw", [401, 403, 404, 403, 403, 403, 404, 404, 404, 404]),
        // Weighing one's own post is 422 `own_post`; a held post 409 `post_unavailable`.
        row(M::PUT, "/posts/{id}/weighing", "/posts/{post_other}/weighing", [401, 200, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"value": "agree"})),
        row(M::PUT, "/posts/{id}/weighing", "/posts/{post_own}/weighing", [401, 422, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"value": "agree"})),
        row(M::PUT, "/posts/{id}/weighing", "/posts/{post_held}/weighing", [401, 409, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"value": "agree"})),
        row(M::PUT, "/posts/{id}/weighing", "/posts/{post_b}/weighing", [401, 404, 422, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"value": "agree"})),
        // Flagging likewise: one's own post 422, a post one cannot read 409.
        row(M::POST, "/posts/{id}/flags", "/posts/{post_other}/flags", [401, 201, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"reason": "off-topic"})),
        row(M::POST, "/posts/{id}/flags", "/posts/{post_own}/flags", [401, 422, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"reason": "off-topic"})),
        row(M::POST, "/posts/{id}/flags", "/posts/{post_held}/flags", [401, 409, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"reason": "off-topic"})),
        row(M::POST, "/posts/{id}/flags", "/posts/{post_b}/flags", [401, 404, 422, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"reason": "off-topic"})),
        // Contesting: only the author of a hidden or rejected post (the own post is
        // visible, so 409 for its author).
        row(M::POST, "/posts/{id}/contest", "/posts/{post_own}/contest", [401, 409, 404, 403, 403, 403, 404, 404, 404, 404])
            .body(|_| json!({"note": "Dit klopt echt niet zo."})),
        row(M::GET, "/posts/{id}/revisions", "/posts/{post_own}/revisions", [401, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/posts/{id}/revisions", "/posts/{post_held}/revisions", [401, 403, 404, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/posts/{id}/revisions", "/posts/{post_b}/revisions", [401, 404, 200, 200, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/posts/{id}/revisions", "/posts/{post_z}/revisions", [401, 404, 404, 404, 404, 404, 200, 200, 200, 200]),
        // Moderation queues: moderators and admins of the municipality.
        row(M::GET, "/moderation/{municipality}/counts", "/moderation/{muni}/counts", [401, 403, 403, 200, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/moderation/{municipality}/queue", "/moderation/{muni}/queue", [401, 403, 403, 200, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/moderation/{municipality}/queue", "/moderation/{muni}/queue?kind=flagged", [401, 403, 403, 200, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/moderation/{municipality}/handled", "/moderation/{muni}/handled", [401, 403, 403, 200, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/moderation/{municipality}/policy", "/moderation/{muni}/policy", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        // A flag threshold of 0: 422 once access is granted (admins only).
        row(M::PUT, "/moderation/{municipality}/policy", "/moderation/{muni}/policy", [401, 403, 403, 403, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({"flag_threshold": 0})),
        // The municipal contact: its admins read and set it; a bad address is 422.
        row(M::GET, "/municipalities/{municipality}/contact", "/municipalities/{muni}/contact", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        row(M::PUT, "/municipalities/{municipality}/contact", "/municipalities/{muni}/contact", [401, 403, 403, 403, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({"email": "geen adres"})),
        // The admin's claim meets the moderator's from the cell before (409); both release.
        row(M::POST, "/moderation/posts/{id}/claim", "/moderation/posts/{post_held}/claim", [401, 403, 404, 200, 403, 409, 404, 404, 404, 404]),
        row(M::POST, "/moderation/posts/{id}/claim", "/moderation/posts/{post_b}/claim", [401, 404, 403, 200, 403, 409, 404, 404, 404, 404]),
        row(M::POST, "/moderation/posts/{id}/release", "/moderation/posts/{post_held}/release", [401, 403, 404, 200, 403, 200, 404, 404, 404, 404]),
        row(M::POST, "/moderation/posts/{id}/release", "/moderation/posts/{post_b}/release", [401, 404, 403, 200, 403, 200, 404, 404, 404, 404]),
        // Hiding without a reason: 422 once access is granted. An unknown action is no route.
        row(M::POST, "/moderation/posts/{id}/{action}", "/moderation/posts/{post_held}/hide", [401, 403, 404, 422, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({})),
        row(M::POST, "/moderation/posts/{id}/{action}", "/moderation/posts/{post_b}/hide", [401, 404, 403, 422, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({})),
        row(M::POST, "/moderation/posts/{id}/{action}", "/moderation/posts/{post_own}/approve", [401, 403, 404, 422, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({})),
        row(M::POST, "/moderation/posts/{id}/{action}", "/moderation/posts/{post_held}/vergeten", [401, 404, 404, 404, 404, 404, 404, 404, 404, 404])
            .body(|_| json!({})),
        // Lifting a suspension or pre-moderation that is not there changes nothing.
        row(M::POST, "/moderation/panelists/{id}/suspend", "/moderation/panelists/{panelist_a}/suspend", [401, 403, 403, 204, 403, 204, 404, 404, 404, 404])
            .body(|_| json!({"hours": 0})),
        row(M::POST, "/moderation/panelists/{id}/premoderate", "/moderation/panelists/{panelist_a}/premoderate", [401, 403, 403, 204, 403, 204, 404, 404, 404, 404])
            .body(|_| json!({"on": false})),
        // Letters and codes: admins of the municipality; the response figures analysts too.
        // A batch of 0 letters is 422 once access is granted.
        row(M::POST, "/panels/{slug}/invitation-batches", "/panels/{muni}/invitation-batches", [401, 403, 403, 403, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({"count": 0})),
        row(M::GET, "/invitation-batches/{id}", "/invitation-batches/{batch_u}", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/municipalities/{municipality}/response", "/municipalities/{muni}/response", [401, 403, 403, 403, 200, 200, 404, 404, 404, 404]),
        row(M::GET, "/municipalities/{municipality}/letter", "/municipalities/{muni}/letter", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        // A letter text too long for one page: 422 once access is granted.
        row(M::PUT, "/municipalities/{municipality}/letter", "/municipalities/{muni}/letter", [401, 403, 403, 403, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({"text": "Een te lange brief. ".repeat(200)})),
        row(M::GET, "/municipalities/{municipality}/invitations/{number}", "/municipalities/{muni}/invitations/{inv_look}", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        row(M::POST, "/municipalities/{municipality}/invitations/{number}/revoke", "/municipalities/{muni}/invitations/{inv_revoke}/revoke", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        row(M::POST, "/municipalities/{municipality}/invitations/{number}/replace", "/municipalities/{muni}/invitations/{inv_replace}/replace", [401, 403, 403, 403, 403, 201, 404, 404, 404, 404])
            .body(|_| json!({})),
        // A resident's own data: panelists only, each their own.
        row(M::GET, "/me/data", "/me/data", [401, 200, 200, 403, 403, 403, 200, 403, 403, 403]),
        // Leaving without the confirmation (panelists) or with an unknown choice (admins
        // on a written request): 422 once access is granted, and nothing changes.
        row(M::POST, "/me/leave", "/me/leave", [401, 422, 422, 403, 403, 403, 422, 403, 403, 403])
            .body(|_| json!({"posts": "behouden", "confirm": false})),
        row(M::POST, "/municipalities/{municipality}/invitations/{number}/leave", "/municipalities/{muni}/invitations/{inv_look}/leave", [401, 403, 403, 403, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({"posts": "weg"})),
        // Retention: admins of the municipality; a period of 121 months is 422. The run is
        // harmless here (no settings, so nothing to remove).
        row(M::GET, "/municipalities/{municipality}/retention", "/municipalities/{muni}/retention", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        row(M::PUT, "/municipalities/{municipality}/retention", "/municipalities/{muni}/retention", [401, 403, 403, 403, 403, 422, 404, 404, 404, 404])
            .body(|_| json!({"unlink_after_months": 121})),
        row(M::GET, "/municipalities/{municipality}/retention/plan", "/municipalities/{muni}/retention/plan", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        row(M::POST, "/municipalities/{municipality}/retention/run", "/municipalities/{muni}/retention/run", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        // The audit log: moderators read the moderation part, admins all and the export.
        row(M::GET, "/audit", "/audit?municipality={muni}", [401, 403, 403, 200, 403, 200, 404, 404, 404, 404]),
        row(M::GET, "/audit/export", "/audit/export?municipality={muni}", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        row(M::HEAD, "/audit/export", "/audit/export?municipality={muni}", [401, 403, 403, 403, 403, 200, 404, 404, 404, 404]),
        // Near the end, as it takes `post_b` away.
        row(M::POST, "/posts/{id}/withdraw", "/posts/{post_b}/withdraw", [401, 404, 200, 403, 403, 403, 404, 404, 404, 404]),
        // Last: every session ends.
        row(M::POST, "/auth/logout", "/auth/logout", [401, 204, 204, 204, 204, 204, 204, 204, 204, 204]),
    ]
}

/// The `(method, route)` pairs of `api_routes()`, read from its source so that the table
/// follows the router rather than a copy of it.
fn router_routes() -> BTreeSet<(String, String)> {
    crate::helpers::routes_in(
        include_str!("../../src/http/routes/mod.rs"),
        "api_routes",
        "",
    )
}

async fn authorisation_matrix(engine: Engine) {
    let mut settings = ServiceSettings {
        // Writes faster than people write.
        rate_limits: RateLimits::unlimited(),
        ..ServiceSettings::default()
    };
    // Twenty logins from one address in a few seconds.
    settings.login_limits.per_ip_per_minute = 1000;
    settings.login_limits.global_per_second = 1000;
    let app = crate::helpers::spawn_app_with_settings(
        engine,
        beraad::realtime::HubSettings::default(),
        settings,
    )
    .await;

    // The table covers the router, and the router what the API description promises.
    let table = rows();
    let routes = router_routes();
    assert!(routes.len() >= 40, "router not read: {routes:?}");
    let covered: BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.route.to_owned()))
        .collect();
    let without_row: Vec<_> = routes.difference(&covered).collect();
    let without_route: Vec<_> = covered.difference(&routes).collect();
    assert!(
        without_row.is_empty(),
        "routes without a row in the matrix: {without_row:?}"
    );
    assert!(
        without_route.is_empty(),
        "rows for routes the router does not have: {without_route:?}"
    );
    let (status, doc) = app.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        // `/healthz`, `/readyz` and `/metrics` are described too (see contract.rs).
        let Some(route) = path.strip_prefix("/api/v1") else {
            continue;
        };
        for method in item.as_object().expect("path item").keys() {
            let key = (method.to_uppercase(), route.to_owned());
            assert!(routes.contains(&key), "documented but not routed: {key:?}");
        }
    }

    let (names, clients) = fixture(&app).await;
    let missing = names.missing();
    let mut sockets: HashMap<usize, Ws> = HashMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut cells = 0;
    // Which secrets some reader entitled to them did read: each must, or the search
    // for them would prove nothing.
    let mut read: BTreeSet<&str> = BTreeSet::new();
    for row in &table {
        for (col, who) in WHO.iter().enumerate() {
            cells += 1;
            let client = &clients[col];
            let (names, missing) = (names.of(*who), missing.of(*who));
            let expected = row.expect[col];
            let what = format!("{} {} as {who:?}", row.method, names.fill(row.at));
            let (status, text, seen) = if row.route == "/ws" {
                follow(client, &mut sockets, col, &names.fill(row.at)).await
            } else {
                call(client, row, &names).await
            };
            if status != expected {
                failures.push(format!("{what}: expected {expected}, got {status} {text}"));
            }
            for (secret, readers) in SECRETS {
                if !seen.contains(secret) {
                    continue;
                }
                if readers.contains(who) {
                    read.insert(secret);
                } else {
                    failures.push(format!("{what}: the answer holds '{secret}': {seen}"));
                }
            }
            // A 404 must be the answer to an id that does not exist, word for word.
            if status == 404 && expected == 404 {
                let (m_status, m_text, _) = if row.route == "/ws" {
                    follow(client, &mut sockets, col, &missing.fill(row.at)).await
                } else {
                    call(client, row, &missing).await
                };
                let strip = |t: &str| {
                    t.replace(&names.fill(row.at), "")
                        .replace(&missing.fill(row.at), "")
                };
                if (m_status, strip(&m_text)) != (status, strip(&text)) {
                    failures.push(format!(
                        "{what}: answers {status} {text}, but for a missing id {m_status} {m_text}"
                    ));
                }
            }
        }
    }
    let unread: Vec<&str> = SECRETS
        .iter()
        .map(|(secret, _)| *secret)
        .filter(|secret| !read.contains(secret))
        .collect();
    assert!(
        unread.is_empty(),
        "no answer showed {unread:?} even to its readers"
    );
    assert!(
        failures.is_empty(),
        "{} of {cells} cells ({} rows × {} actors) differ:\n{}",
        failures.len(),
        table.len(),
        WHO.len(),
        failures.join("\n")
    );
    eprintln!(
        "authorisation matrix: {} rows × {} actors = {cells} cells, {} routes",
        table.len(),
        WHO.len(),
        routes.len()
    );
}

/// Sends a row's request as `client`: the status, the answer's text, and everything the
/// actor was sent (here the same text).
async fn call(client: &Client, row: &Row, names: &Names) -> (u16, String, String) {
    let url = format!("{}/api/v1{}", client.base, names.fill(row.at));
    let mut req = client.http.request(row.method.clone(), url);
    if !row.method.is_safe()
        && let Some(csrf) = &client.csrf
    {
        req = req.header("x-csrf-token", csrf);
    }
    if let Some(body) = row.body {
        req = req.json(&body(names));
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, text.clone(), text)
}

/// Subscribes `client`'s socket to `topic` and unsubscribes again: `200` followed, `404`
/// refused, `401` no socket; the answer to the subscribe, and every frame read on the way
/// (events of earlier topics, the backlog).
async fn follow(
    client: &Client,
    sockets: &mut HashMap<usize, Ws>,
    col: usize,
    topic: &str,
) -> (u16, String, String) {
    let ws = match sockets.entry(col) {
        Entry::Occupied(open) => open.into_mut(),
        Entry::Vacant(slot) => match client.ws_with_origin(Some("http://beraad.test")).await {
            Ok(ws) => slot.insert(ws),
            Err(status) => return (status, String::new(), String::new()),
        },
    };
    ws.send(json!({"type": "subscribe", "topic": topic, "after": 0}))
        .await;
    let mut seen = String::new();
    loop {
        let Some(msg) = ws.next().await else {
            return (0, "socket closed".into(), seen);
        };
        seen.push_str(&msg.to_string());
        if msg["topic"] != topic {
            continue;
        }
        let status = match msg["type"].as_str() {
            Some("subscribed") => {
                ws.send(json!({"type": "unsubscribe", "topic": topic}))
                    .await;
                200
            }
            Some("error") if msg["code"] == "forbidden" => 404,
            _ => 0,
        };
        return (status, msg.to_string(), seen);
    }
}

/// Creates a case before `panel` through `admin`, opened if `open`; returns its id.
async fn case(admin: &Client, municipality: &str, panel: &str, title: &str, open: bool) -> i64 {
    let id = create_case(
        admin,
        municipality,
        json!({"title": title, "panels": [panel]}),
    )
    .await;
    if open {
        let (status, body) = admin
            .post(&format!("/api/v1/cases/{id}/open"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    id
}

/// Posts to a case; returns the post.
async fn post(client: &Client, case: i64, body: Value) -> Value {
    let (status, post) = client
        .post(&format!("/api/v1/cases/{case}/posts"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{post}");
    post
}

/// The panelist id behind a client's session.
async fn panelist_id(app: &TestApp, client: &Client) -> i64 {
    let token = client
        .session_cookie
        .as_deref()
        .and_then(|c| c.strip_prefix("beraad_session="))
        .expect("session cookie");
    let auth = app
        .service
        .authenticate(token)
        .await
        .expect("authenticate")
        .expect("live session");
    match auth.actor {
        Actor::Panelist(p) => p.id,
        Actor::Staff(_) => panic!("not a panelist"),
    }
}

/// Puts a panelist on pre-moderation, through a moderator.
async fn premoderate(moderator: &Client, panelist: i64) {
    let (status, body) = moderator
        .post(
            &format!("/api/v1/moderation/panelists/{panelist}/premoderate"),
            json!({"on": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

/// Two municipalities with ids of every kind in each (see [`rows`]); the clients in the
/// order of [`WHO`].
async fn fixture(app: &TestApp) -> (Names, Vec<Client>) {
    let u = app.tenant("utrecht", 2).await;
    let z = app.tenant("zoetermeer", 2).await;
    app.service
        .create_panel("utrecht", "utrecht-b", "Panel B")
        .await
        .expect("panel B");
    let code_b = app
        .service
        .create_invites("utrecht-b", 1, &AuditContext::cli())
        .await
        .expect("invite")
        .remove(0)
        .code;

    let letters = app
        .service
        .create_batch_with_codes(
            "utrecht-b",
            &(0..3)
                .map(|_| beraad::domain::secrets::new_invite_code())
                .collect::<Vec<_>>(),
            &AuditContext::cli(),
        )
        .await
        .expect("letters");

    let clients = vec![
        app.anonymous(),
        app.panelist(&u.codes[0]).await,
        app.panelist(&code_b).await,
        app.staff(&u.moderator).await,
        app.staff(&u.analyst).await,
        app.staff(&u.admin).await,
        app.panelist(&z.codes[0]).await,
        app.staff(&z.moderator).await,
        app.staff(&z.analyst).await,
        app.staff(&z.admin).await,
    ];
    let [
        _,
        panel_a,
        panel_b,
        mod_u,
        _,
        admin_u,
        panel_z,
        mod_z,
        _,
        admin_z,
    ] = &clients[..]
    else {
        unreachable!()
    };
    let other_a = app.panelist(&u.codes[1]).await;
    let other_z = app.panelist(&z.codes[1]).await;

    let title_d = "Concept zzfuut";
    let case_a = case(admin_u, "utrecht", "utrecht", "Casus zzkoekoek", true).await;
    let case_b = case(admin_u, "utrecht", "utrecht-b", "Casus zzreiger", true).await;
    let case_d = case(admin_u, "utrecht", "utrecht", title_d, false).await;
    let case_k = case(admin_u, "utrecht", "utrecht", "Casus om te sluiten", true).await;
    let case_o = case(admin_u, "utrecht", "utrecht", "Casus om te openen", false).await;
    let case_c = case(admin_u, "utrecht", "utrecht", "Gesloten casus", true).await;
    post(
        panel_a,
        case_c,
        json!({"verdict": "eens", "body": "Dit besluit was goed te volgen."}),
    )
    .await;
    let (status, body) = admin_u
        .post(&format!("/api/v1/cases/{case_c}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let own = post(
        panel_a,
        case_a,
        json!({"verdict": "eens", "body": "Ik vind het besluit redelijk, zzlijster."}),
    )
    .await;
    let edit = post(
        panel_a,
        case_a,
        json!({"parent_id": own["id"], "body": "Een aanvulling die ik nog aanpas."}),
    )
    .await;
    let withdraw = post(
        panel_a,
        case_a,
        json!({"parent_id": own["id"], "body": "Een aanvulling die ik terugneem."}),
    )
    .await;
    let other = post(
        &other_a,
        case_a,
        json!({"verdict": "oneens", "body": "Ik vind het onredelijk, zzspreeuw."}),
    )
    .await;
    premoderate(mod_u, panelist_id(app, &other_a).await).await;
    let held = post(
        &other_a,
        case_a,
        json!({"parent_id": other["id"], "body": "Dit wacht op een moderator, zzwielewaal."}),
    )
    .await;
    assert_eq!(held["status"], "pending", "{held}");
    let post_b = post(
        panel_b,
        case_b,
        json!({"verdict": "twijfel", "body": "Ik twijfel over dit besluit, zzroodborst."}),
    )
    .await;

    let case_z = case(admin_z, "zoetermeer", "zoetermeer", "Casus zzmerel", true).await;
    let post_z = post(
        panel_z,
        case_z,
        json!({"verdict": "eens", "body": "In Zoetermeer klopt het, zzgrutto."}),
    )
    .await;
    premoderate(mod_z, panelist_id(app, &other_z).await).await;
    let held_z = post(
        &other_z,
        case_z,
        json!({"verdict": "oneens", "body": "Ook hier wacht iets, zzijsvogel."}),
    )
    .await;
    assert_eq!(held_z["status"], "pending", "{held_z}");

    let id = |v: &Value| v["id"].as_i64().expect("id").to_string();
    let names = Names(HashMap::from([
        ("muni", "utrecht".to_owned()),
        ("title_d", title_d.to_owned()),
        ("case_a", case_a.to_string()),
        ("case_b", case_b.to_string()),
        ("case_c", case_c.to_string()),
        ("case_d", case_d.to_string()),
        ("case_k", case_k.to_string()),
        ("case_o", case_o.to_string()),
        ("post_own", id(&own)),
        ("post_edit", id(&edit)),
        ("post_withdraw", id(&withdraw)),
        ("post_other", id(&other)),
        ("post_held", id(&held)),
        ("post_b", id(&post_b)),
        ("panelist_a", panelist_id(app, panel_a).await.to_string()),
        ("case_z", case_z.to_string()),
        ("post_z", id(&post_z)),
        ("post_z_held", id(&held_z)),
        ("batch_u", letters.id.to_string()),
        ("inv_look", letters.invitations[0].number.clone()),
        ("inv_revoke", letters.invitations[1].number.clone()),
        ("inv_replace", letters.invitations[2].number.clone()),
    ]));
    (names, clients)
}
