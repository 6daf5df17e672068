//! The draw of a case's panel from its pool: targets met, only the drawn see the case,
//! the same seed gives the same draw and a check that redoes it, fairness over repeated
//! draws, bad targets refused without a trace, top-ups from the same stratum, and the
//! municipality's population figures.

use std::collections::HashMap;

use beraad::domain::secrets::{hash_invite_code, normalize_invite_code};
use beraad::service::AuditContext;
use beraad::service::policy::{Actor, PanelistActor};
use beraad::service::profile::ProfileInput;
use beraad::store::{draws, people};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{Client, Tenant, TestApp, code, create_case};

both_engines!(
    a_draw_meets_its_targets_and_only_the_drawn_see_the_case,
    the_same_seed_gives_the_same_draw_and_the_check_redoes_it,
    over_eight_draws_everyone_is_drawn_as_often_as_their_chances_say,
    bad_targets_are_refused_and_change_nothing,
    a_top_up_replaces_non_responders_from_the_same_stratum,
    population_figures_are_kept_and_used_as_targets,
);

const AGES: [&str; 5] = ["18-34", "35-49", "50-64", "65-74", "75+"];
const WMO: [&str; 3] = ["zelf", "naaste", "geen"];

/// A tenant whose panelists have consented profiles (one in ten has not), spread
/// unevenly over ages and Wmo experience. Returns the tenant and panelist ids by code.
async fn pool(app: &TestApp, slug: &str, n: u32) -> (Tenant, HashMap<String, i64>) {
    let tenant = app.tenant(slug, n).await;
    let db = app.service.store.db();
    let panel = people::panel_by_slug(db, slug).await.unwrap().unwrap();
    let mut ids = HashMap::new();
    for (i, code) in tenant.codes.iter().enumerate() {
        let p = people::panelist_by_code_hash(db, &hash_invite_code(&normalize_invite_code(code)))
            .await
            .unwrap()
            .expect("panelist");
        ids.insert(code.clone(), p.id);
        let actor = Actor::Panelist(PanelistActor {
            id: p.id,
            panel_id: panel.id,
            municipality_id: panel.municipality_id,
            pseudonym: p.pseudonym,
            suspended_until: None,
            suspended_reason: None,
        });
        let input = if i % 10 == 9 {
            ProfileInput::default()
        } else {
            ProfileInput {
                consent: true,
                // Ages weighted towards the older bands, as resident panels often are.
                age_band: Some(AGES[[0, 1, 2, 2, 3, 3, 3, 4][i % 8]].into()),
                district: Some(["Noord", "Zuid"][i % 2].into()),
                wmo_experience: Some(WMO[[0, 1, 2, 2, 2][i % 5]].into()),
            }
        };
        app.service
            .set_profile(&actor, input, &AuditContext::cli())
            .await
            .expect("profile");
    }
    (tenant, ids)
}

/// Targets equal to the pool's own shares for `features`.
async fn pool_targets(admin: &Client, case: i64, features: &[&str]) -> Value {
    let (status, pool) = admin.get(&format!("/api/v1/cases/{case}/pool")).await;
    assert_eq!(status, StatusCode::OK, "{pool}");
    let list: Vec<Value> = features
        .iter()
        .map(|f| {
            let shares: serde_json::Map<String, Value> = pool
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["feature"] == *f)
                .map(|p| (p["value"].as_str().unwrap().to_string(), p["share"].clone()))
                .collect();
            json!({"feature": f, "shares": shares})
        })
        .collect();
    Value::Array(list)
}

/// Panelist ids seated in the case's draw.
async fn seated(app: &TestApp, case: i64) -> Vec<i64> {
    let mut ids = draws::seated_of_case(app.service.store.db(), case)
        .await
        .unwrap()
        .expect("a draw");
    ids.sort_unstable();
    ids
}

async fn draw(admin: &Client, case: i64, body: Value) -> (StatusCode, Value) {
    admin
        .post(&format!("/api/v1/cases/{case}/draw"), body)
        .await
}

async fn a_draw_meets_its_targets_and_only_the_drawn_see_the_case(app: TestApp) {
    let (tenant, ids) = pool(&app, "utrecht", 60).await;
    let admin = app.staff(&tenant.admin).await;
    let case = create_case(&admin, "utrecht", json!({})).await;
    let features = pool_targets(&admin, case, &["age_band", "wmo_experience"]).await;
    let (status, report) = draw(
        &admin,
        case,
        json!({"size": 20, "seed": "trekking 28 november: 7 14 21", "tolerance": 1, "features": features}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["seated"], 20);
    assert_eq!(report["pool"], 60);
    for f in report["features"].as_array().unwrap() {
        for v in f["values"].as_array().unwrap() {
            assert_eq!(v["within"], true, "{v}");
        }
    }
    let min = report["min_probability"].as_f64().unwrap();
    assert!(min > 0.2 && min <= 20.0 / 60.0 + 1e-9, "{min}");
    assert_eq!(report["inputs_hash"].as_str().unwrap().len(), 64);

    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/open"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seats = seated(&app, case).await;
    let (inside, outside): (Vec<&String>, Vec<&String>) =
        tenant.codes.iter().partition(|c| seats.contains(&ids[*c]));
    assert_eq!(inside.len(), 20);
    for code_ in inside.iter().take(2) {
        let p = app.panelist(code_).await;
        let (status, _) = p.get(&format!("/api/v1/cases/{case}")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, list) = p.get("/api/v1/cases").await;
        assert!(list.as_array().unwrap().iter().any(|c| c["id"] == case));
    }
    let p = app.panelist(inside[0]).await;
    let (status, body) = p
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "eens", "body": "Ik vind dit besluit redelijk."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, report) = admin.get(&format!("/api/v1/cases/{case}/draw")).await;
    // 2 of 20 logged in, 1 reacted: too few to show (as in the analysis).
    assert_eq!(
        report["response"][0],
        json!({"step": "drawn", "count": 20, "suppressed": false})
    );
    assert_eq!(
        report["response"][1],
        json!({"step": "used", "count": null, "suppressed": true})
    );
    assert_eq!(
        report["response"][2],
        json!({"step": "reacted", "count": null, "suppressed": true})
    );
    for code_ in outside.iter().take(2) {
        let p = app.panelist(code_).await;
        let (status, body) = p.get(&format!("/api/v1/cases/{case}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(code(&body), "case_not_found");
        let (status, body) = p
            .post(
                &format!("/api/v1/cases/{case}/posts"),
                json!({"verdict": "eens", "body": "Ik vind dit besluit redelijk."}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (_, list) = p.get("/api/v1/cases").await;
        assert!(!list.as_array().unwrap().iter().any(|c| c["id"] == case));
    }
    // The draw is an audit entry, without anyone's identity in it.
    let (_, audit) = admin
        .get("/api/v1/audit?municipality=utrecht&limit=50")
        .await;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "case.draw")
        .expect("audit entry")
        .clone();
    assert_eq!(entry["detail"]["size"], 20);
    assert_eq!(entry["detail"]["inputs_hash"], report["inputs_hash"]);
}

async fn the_same_seed_gives_the_same_draw_and_the_check_redoes_it(app: TestApp) {
    let (tenant, _) = pool(&app, "utrecht", 40).await;
    let admin = app.staff(&tenant.admin).await;
    let case = create_case(&admin, "utrecht", json!({})).await;
    let features = pool_targets(&admin, case, &["age_band"]).await;
    let body = |seed: &str| json!({"size": 12, "seed": seed, "tolerance": 1, "features": features});
    let (status, first) = draw(&admin, case, body("42")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let a = seated(&app, case).await;
    let (status, again) = draw(&admin, case, body("42")).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(
        seated(&app, case).await,
        a,
        "the same seed seats the same people"
    );
    assert_eq!(again["inputs_hash"], first["inputs_hash"]);
    let (status, other) = draw(&admin, case, body("43")).await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let b = seated(&app, case).await;
    assert_ne!(b, a, "another seed, another panel");
    assert_ne!(other["inputs_hash"], first["inputs_hash"]);

    let (status, check) = admin
        .get(&format!("/api/v1/cases/{case}/draw/verify"))
        .await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["inputs_match"], true);
    assert_eq!(check["selection_matches"], true);

    // A stored input changed afterwards no longer hashes to what was recorded.
    let db = app.service.store.db();
    let d = draws::draw_of_case(db, case).await.unwrap().unwrap();
    let victim = b[0];
    draws::set_member_status(db, d.id, victim, draws::status::POOL, None)
        .await
        .unwrap();
    let (_, check) = admin
        .get(&format!("/api/v1/cases/{case}/draw/verify"))
        .await;
    assert_eq!(check["selection_matches"], false, "{check}");
}

async fn over_eight_draws_everyone_is_drawn_as_often_as_their_chances_say(app: TestApp) {
    let (tenant, ids) = pool(&app, "utrecht", 40).await;
    let admin = app.staff(&tenant.admin).await;
    let mut times: HashMap<i64, u32> = ids.values().map(|id| (*id, 0)).collect();
    let mut chances: HashMap<i64, f64> = ids.values().map(|id| (*id, 0.0)).collect();
    for round in 0..8 {
        let case = create_case(&admin, "utrecht", json!({})).await;
        let features = pool_targets(&admin, case, &["wmo_experience"]).await;
        let (status, report) = draw(
            &admin,
            case,
            json!({"size": 10, "seed": format!("ronde {round}"), "tolerance": 1, "features": features}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{report}");
        for id in seated(&app, case).await {
            *times.get_mut(&id).unwrap() += 1;
        }
        let d = draws::draw_of_case(app.service.store.db(), case)
            .await
            .unwrap()
            .unwrap();
        for m in draws::members_of_draw(app.service.store.db(), d.id)
            .await
            .unwrap()
        {
            *chances.get_mut(&m.panelist_id).unwrap() += m.probability;
        }
    }
    // 8 draws of 10 from 40: about 2 each. With deficits carried between draws nobody
    // ends more than one draw away from what their chances promised.
    let worst = ids
        .values()
        .map(|id| (f64::from(times[id]) - chances[id]).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 1.0 + 1e-6,
        "someone is {worst} draws off their chances"
    );
    let most = times.values().max().unwrap();
    let fewest = times.values().min().unwrap();
    assert!(
        most - fewest <= 2,
        "drawn between {fewest} and {most} times"
    );
}

async fn bad_targets_are_refused_and_change_nothing(app: TestApp) {
    let (tenant, _) = pool(&app, "utrecht", 20).await;
    let admin = app.staff(&tenant.admin).await;
    let case = create_case(&admin, "utrecht", json!({})).await;
    let cases = [
        (
            json!({"size": 5, "seed": "1", "features": [{"feature": "age_band", "shares": {"18-34": 0.5, "75+": 0.2}}]}),
            "shares_do_not_add_up",
        ),
        (
            json!({"size": 5, "seed": "1", "features": [{"feature": "age_band", "shares": {"18-34": 1.5}}]}),
            "invalid_share",
        ),
        (json!({"size": 21, "seed": "1"}), "pool_too_small"),
        (json!({"size": 5, "seed": "  "}), "invalid_field"),
        (json!({"size": 0, "seed": "1"}), "invalid_field"),
        (
            json!({"size": 10, "seed": "1", "tolerance": 0, "features": [{"feature": "age_band", "shares": {"18-34": 0.9, "onbekend": 0.1}}]}),
            "targets_unreachable",
        ),
        (
            json!({"size": 5, "seed": "1", "features": [{"feature": "wmo_experience"}]}),
            "targets_missing",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = draw(&admin, case, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {answer}"
        );
        assert_eq!(code(&answer), expected, "{body} → {answer}");
    }
    let (status, body) = admin.get(&format!("/api/v1/cases/{case}/draw")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "draw_not_found");

    // Other staff roles and panelists may not draw.
    let moderator = app.staff(&tenant.moderator).await;
    let (status, _) = draw(&moderator, case, json!({"size": 5, "seed": "1"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let panelist = app.panelist(&tenant.codes[0]).await;
    let (status, _) = draw(&panelist, case, json!({"size": 5, "seed": "1"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other = app.tenant("zoetermeer", 0).await;
    let outsider = app.staff(&other.admin).await;
    let (status, _) = draw(&outsider, case, json!({"size": 5, "seed": "1"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Once the case is open, its panel is fixed.
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/open"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = draw(&admin, case, json!({"size": 5, "seed": "1"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "case_already_open");
    let (status, _) = admin.get(&format!("/api/v1/cases/{case}/draw")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_top_up_replaces_non_responders_from_the_same_stratum(app: TestApp) {
    let (tenant, ids) = pool(&app, "utrecht", 60).await;
    let admin = app.staff(&tenant.admin).await;
    let case = create_case(&admin, "utrecht", json!({})).await;
    let features = pool_targets(&admin, case, &["age_band", "wmo_experience"]).await;
    let (status, report) = draw(
        &admin,
        case,
        json!({"size": 10, "seed": "aanvullen", "tolerance": 2, "features": features}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/open"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = seated(&app, case).await;
    let code_of: HashMap<i64, &String> = ids.iter().map(|(c, id)| (*id, c)).collect();
    // Three of the drawn respond.
    for id in &before[..3] {
        app.panelist(code_of[id]).await;
    }
    let db = app.service.store.db();
    let d = draws::draw_of_case(db, case).await.unwrap().unwrap();
    let type_of: HashMap<i64, String> = draws::members_of_draw(db, d.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.panelist_id, m.type_key))
        .collect();

    let (status, result) = admin
        .post(
            &format!("/api/v1/cases/{case}/draw/top-up"),
            json!({"days": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let replaced = result["replaced"].as_u64().unwrap() as usize;
    let unfilled = result["unfilled"].as_u64().unwrap() as usize;
    assert_eq!(replaced + unfilled, 7, "{result}");
    assert!(replaced >= 1, "{result}");
    // A non-responder whose stratum has nobody left keeps the seat: a seat is never
    // left empty.
    let after = seated(&app, case).await;
    assert_eq!(after.len(), 10);
    assert_eq!(result["report"]["seated"], 10);
    assert_eq!(result["report"]["replaced"], replaced);
    for id in &before[..3] {
        assert!(
            after.contains(id),
            "a panelist who responded keeps the seat"
        );
    }
    let mut gone: Vec<&String> = before
        .iter()
        .filter(|id| !after.contains(id))
        .map(|id| &type_of[id])
        .collect();
    let mut came: Vec<&String> = after
        .iter()
        .filter(|id| !before.contains(id))
        .map(|id| &type_of[id])
        .collect();
    gone.sort();
    came.sort();
    assert_eq!(gone.len(), replaced);
    assert_eq!(
        gone, came,
        "each replacement has the values of whom they replace"
    );
    // The replaced lose the case; their replacements get it.
    let out = before.iter().find(|id| !after.contains(id)).unwrap();
    let inn = after.iter().find(|id| !before.contains(id)).unwrap();
    let p = app.panelist(code_of[out]).await;
    let (status, _) = p.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let p = app.panelist(code_of[inn]).await;
    let (status, _) = p.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, StatusCode::OK);
    // The draw itself still checks out.
    let (_, check) = admin
        .get(&format!("/api/v1/cases/{case}/draw/verify"))
        .await;
    assert_eq!(check["selection_matches"], true, "{check}");
}

async fn population_figures_are_kept_and_used_as_targets(app: TestApp) {
    let (tenant, _) = pool(&app, "utrecht", 30).await;
    let admin = app.staff(&tenant.admin).await;
    let (status, body) = admin
        .put(
            "/api/v1/municipalities/utrecht/population",
            json!([{"feature": "wmo_experience", "value": "zelf", "share": 0.6}]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "shares_do_not_add_up");
    let figures = json!([
        {"feature": "wmo_experience", "value": "zelf", "share": 0.2},
        {"feature": "wmo_experience", "value": "naaste", "share": 0.2},
        {"feature": "wmo_experience", "value": "geen", "share": 0.5},
        {"feature": "wmo_experience", "value": "onbekend", "share": 0.1},
    ]);
    let (status, body) = admin
        .put("/api/v1/municipalities/utrecht/population", figures)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 4);
    let (_, read) = admin.get("/api/v1/municipalities/utrecht/population").await;
    assert_eq!(read, body);
    let analyst = app.staff(&tenant.analyst).await;
    let (status, _) = analyst
        .get("/api/v1/municipalities/utrecht/population")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let case = create_case(&admin, "utrecht", json!({})).await;
    let (status, report) = draw(
        &admin,
        case,
        json!({"size": 10, "seed": "bevolking", "tolerance": 0, "features": [{"feature": "wmo_experience"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let values = report["features"][0]["values"].as_array().unwrap();
    let seats: HashMap<&str, u64> = values
        .iter()
        .map(|v| (v["value"].as_str().unwrap(), v["seated"].as_u64().unwrap()))
        .collect();
    assert_eq!(seats["zelf"], 2);
    assert_eq!(seats["naaste"], 2);
    assert_eq!(seats["geen"], 5);
    assert_eq!(seats["onbekend"], 1);
}
