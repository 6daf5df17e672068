//! The draw page under `/beheer/casus/{id}/loting`: staff set the seats, the seed and the
//! target shares per feature (prefilled from the municipality's population figures, else
//! from the pool), draw the panel, read the report (targets against what was attained,
//! the smallest chance, the seed and the inputs' hash), check the draw by redoing it and
//! top it up with replacements for panelists who did not respond.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, SessionForm, Viewer, render, see_other};
use crate::domain::CaseStatus;
use crate::http::AppState;
use crate::http::extract::{Path, Query};
use crate::service::draws::{
    DrawCheck, DrawFeature, DrawReport, DrawRequest, FeatureTargets, PopulationShare,
};
use crate::service::{AuditContext, Error};
use crate::web::i18n::Tr;

/// The draw routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/beheer/casus/{id}/loting", get(page).post(draw))
        .route("/beheer/casus/{id}/loting/aanvullen", post(top_up))
}

/// One feature's block in the form.
struct FeatureField {
    key: &'static str,
    checked: bool,
    lines: String,
}

/// A line of a feature table in the report.
struct ValueRow {
    value: String,
    target: String,
    bounds: String,
    pool: u32,
    seated: u32,
    share: String,
    within: bool,
}

struct FeatureTable {
    key: &'static str,
    rows: Vec<ValueRow>,
}

#[derive(Template)]
#[template(path = "staff_draw.html")]
struct DrawPage {
    t: Tr,
    c: Chrome,
    case_id: i64,
    title: String,
    can_draw: bool,
    can_top_up: bool,
    report: Option<DrawReport>,
    tables: Vec<FeatureTable>,
    min_chance: String,
    max_chance: String,
    check: Option<DrawCheck>,
    size: String,
    seed: String,
    tolerance: String,
    days: String,
    save_population: bool,
    features: Vec<FeatureField>,
    errors: Vec<(&'static str, String)>,
    flash: Option<String>,
}

impl DrawPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The draw form's fields, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DrawForm {
    #[serde(default)]
    size: String,
    #[serde(default)]
    seed: String,
    #[serde(default)]
    tolerance: String,
    #[serde(default)]
    age_band: Option<String>,
    #[serde(default)]
    age_band_shares: String,
    #[serde(default)]
    district: Option<String>,
    #[serde(default)]
    district_shares: String,
    #[serde(default)]
    wmo_experience: Option<String>,
    #[serde(default)]
    wmo_experience_shares: String,
    #[serde(default)]
    save_population: Option<String>,
}

/// The top-up form.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TopUpForm {
    #[serde(default)]
    days: String,
}

/// `?ok=` and `?controle=1` on the page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    ok: Option<String>,
    controle: Option<String>,
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0).replace('.', ",")
}

/// Lines `value: percentage` from shares.
fn lines_of(shares: &[(String, f64)]) -> String {
    shares
        .iter()
        .map(|(v, s)| format!("{v}: {}", format!("{:.1}", s * 100.0).replace('.', ",")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads `value: percentage` lines (a `,` or `.` decimal, `%` optional).
fn parse_lines(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((value, share)) = line.rsplit_once(':') else {
            return Err(format!("Regel {}: schrijf ‘waarde: percentage’.", n + 1));
        };
        let share = share.trim().trim_end_matches('%').trim().replace(',', ".");
        let Ok(share) = share.parse::<f64>() else {
            return Err(format!("Regel {}: ‘{}’ is geen percentage.", n + 1, share));
        };
        out.insert(value.trim().to_string(), share / 100.0);
    }
    Ok(out)
}

fn tables_of(report: &DrawReport) -> Vec<FeatureTable> {
    report
        .features
        .iter()
        .map(|f| FeatureTable {
            key: f.feature.as_str(),
            rows: f
                .values
                .iter()
                .map(|v| ValueRow {
                    value: v.value.clone(),
                    target: percent(v.target),
                    bounds: format!("{}–{}", v.min_seats, v.max_seats),
                    pool: v.pool,
                    seated: v.seated,
                    share: percent(v.share),
                    within: v.within,
                })
                .collect(),
        })
        .collect()
}

async fn render_page(
    state: &AppState,
    v: &Viewer,
    id: i64,
    form: Option<DrawForm>,
    errors: Vec<(&'static str, String)>,
    flash: Option<String>,
    check: Option<DrawCheck>,
) -> Response {
    let actor = match v.require_staff() {
        Ok((a, _)) => &a.actor,
        Err(r) => return r,
    };
    let case = match state.service.case_for_editing(actor, id).await {
        Ok(c) => c,
        Err(e) => return v.fail(e),
    };
    let report = match state.service.draw_report(Some(actor), id).await {
        Ok(r) => Some(r),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return v.fail(e),
    };
    let can_draw = matches!(case.status, CaseStatus::Draft | CaseStatus::Scheduled);
    let can_top_up =
        report.is_some() && !matches!(case.status, CaseStatus::Closed | CaseStatus::Archived);
    let features = match &form {
        Some(f) => vec![
            FeatureField {
                key: "age_band",
                checked: f.age_band.is_some(),
                lines: f.age_band_shares.clone(),
            },
            FeatureField {
                key: "district",
                checked: f.district.is_some(),
                lines: f.district_shares.clone(),
            },
            FeatureField {
                key: "wmo_experience",
                checked: f.wmo_experience.is_some(),
                lines: f.wmo_experience_shares.clone(),
            },
        ],
        None => {
            let population = match state.service.population(actor, &case.municipality).await {
                Ok(p) => p,
                Err(e) => return v.fail(e),
            };
            let pool = match state.service.pool_profile(Some(actor), id).await {
                Ok(p) => p,
                Err(e) => return v.fail(e),
            };
            DrawFeature::ALL
                .into_iter()
                .map(|feature| {
                    let pick = |list: &[PopulationShare]| -> Vec<(String, f64)> {
                        list.iter()
                            .filter(|p| p.feature == feature)
                            .map(|p| (p.value.clone(), p.share))
                            .collect()
                    };
                    let mut shares = pick(&population);
                    if shares.is_empty() {
                        shares = pick(&pool);
                    }
                    FeatureField {
                        key: feature.as_str(),
                        checked: true,
                        lines: lines_of(&shares),
                    }
                })
                .collect()
        }
    };
    let form = form.unwrap_or_default();
    let default_size = report.as_ref().map_or(250, |r| r.size).to_string();
    let page = DrawPage {
        t: v.t,
        c: v.chrome("staff"),
        case_id: id,
        title: case.title,
        can_draw,
        can_top_up,
        tables: report.as_ref().map(tables_of).unwrap_or_default(),
        min_chance: report
            .as_ref()
            .map(|r| percent(r.min_probability))
            .unwrap_or_default(),
        max_chance: report
            .as_ref()
            .map(|r| percent(r.max_probability))
            .unwrap_or_default(),
        report,
        check,
        size: if form.size.is_empty() {
            default_size
        } else {
            form.size
        },
        seed: form.seed,
        tolerance: if form.tolerance.is_empty() {
            "2".into()
        } else {
            form.tolerance
        },
        days: "14".into(),
        save_population: form.save_population.is_some(),
        features,
        errors,
        flash,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, render(&page)).into_response()
}

/// `GET /beheer/casus/{id}/loting`.
pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Response {
    let flash = q.ok.as_deref().map(|key| match key {
        "aangevuld" => v.t.t("draw.flash.topped_up").to_string(),
        _ => v.t.t("draw.flash.drawn").to_string(),
    });
    let check = if q.controle.is_some() {
        let actor = match v.require_staff() {
            Ok((a, _)) => &a.actor,
            Err(r) => return r,
        };
        match state.service.verify_draw(Some(actor), id).await {
            Ok(c) => Some(c),
            Err(e) => return v.fail(e),
        }
    } else {
        None
    };
    render_page(&state, &v, id, None, Vec::new(), flash, check).await
}

/// `POST /beheer/casus/{id}/loting`: draws the panel.
pub async fn draw(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<DrawForm>,
) -> Response {
    let actor = match v.require_staff() {
        Ok((a, _)) => a.actor.clone(),
        Err(r) => return r,
    };
    let mut errors = Vec::new();
    let size = form.size.trim().parse::<u32>();
    if size.is_err() {
        errors.push(("size", v.t.t("draw.error.number").to_string()));
    }
    let tolerance = form.tolerance.trim().parse::<u32>();
    if tolerance.is_err() {
        errors.push(("tolerance", v.t.t("draw.error.number").to_string()));
    }
    let mut features = Vec::new();
    for (feature, on, text) in [
        (DrawFeature::AgeBand, &form.age_band, &form.age_band_shares),
        (DrawFeature::District, &form.district, &form.district_shares),
        (
            DrawFeature::WmoExperience,
            &form.wmo_experience,
            &form.wmo_experience_shares,
        ),
    ] {
        if on.is_none() {
            continue;
        }
        match parse_lines(text) {
            Ok(shares) => features.push(FeatureTargets { feature, shares }),
            Err(m) => errors.push((feature.as_str(), m)),
        }
    }
    if !errors.is_empty() {
        return render_page(&state, &v, id, Some(form), errors, None, None).await;
    }
    let ctx = AuditContext::new(&actor, v.ip);
    if form.save_population.is_some() && !features.is_empty() {
        let case = match state.service.case_for_editing(&actor, id).await {
            Ok(c) => c,
            Err(e) => return v.fail(e),
        };
        let figures = features
            .iter()
            .flat_map(|f| {
                f.shares.iter().map(|(value, share)| PopulationShare {
                    feature: f.feature,
                    value: value.clone(),
                    share: *share,
                })
            })
            .collect();
        if let Err(e) = state
            .service
            .set_population(&actor, &case.municipality, figures, &ctx)
            .await
        {
            return form_error(&state, &v, id, form, e).await;
        }
    }
    let request = DrawRequest {
        size: size.unwrap_or_default(),
        seed: form.seed.clone(),
        tolerance: tolerance.unwrap_or_default(),
        features,
    };
    match state
        .service
        .make_draw(Some(&actor), id, request, &ctx)
        .await
    {
        Ok(_) => see_other(&format!("/beheer/casus/{id}/loting?ok=geloot#verslag")),
        Err(e) => form_error(&state, &v, id, form, e).await,
    }
}

/// Shows a refused draw on the form, beside the field it concerns where there is one.
async fn form_error(state: &AppState, v: &Viewer, id: i64, form: DrawForm, e: Error) -> Response {
    if !matches!(e, Error::Invalid { .. } | Error::Conflict { .. }) {
        return v.fail(e);
    }
    let field = match e.fields().first() {
        Some(&"seed") => "seed",
        Some(&"size") => "size",
        Some(&"tolerance") => "tolerance",
        _ => "form",
    };
    let message = v.t.error(e.code(), &e.message());
    render_page(state, v, id, Some(form), vec![(field, message)], None, None).await
}

/// `POST /beheer/casus/{id}/loting/aanvullen`: replaces non-responders.
pub async fn top_up(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { viewer: v, form }: SessionForm<TopUpForm>,
) -> Response {
    let actor = match v.require_staff() {
        Ok((a, _)) => a.actor.clone(),
        Err(r) => return r,
    };
    let Ok(days) = form.days.trim().parse::<u32>() else {
        let message = v.t.t("draw.error.number").to_string();
        return render_page(&state, &v, id, None, vec![("days", message)], None, None).await;
    };
    let ctx = AuditContext::new(&actor, v.ip);
    match state
        .service
        .top_up_draw(Some(&actor), id, days, &ctx)
        .await
    {
        Ok(_) => see_other(&format!("/beheer/casus/{id}/loting?ok=aangevuld#verslag")),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            let message = v.t.error(e.code(), &e.message());
            render_page(&state, &v, id, None, vec![("days", message)], None, None).await
        }
        Err(e) => v.fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_lines_read_dutch_and_english_decimals() {
        let shares = parse_lines("18-34: 22,5\n35-49: 25.5%\n\n 75+ : 10 ").unwrap();
        assert_eq!(shares["18-34"], 0.225);
        assert_eq!(shares["35-49"], 0.255);
        assert_eq!(shares["75+"], 0.1);
        assert!(parse_lines("noord 20").is_err());
        assert!(parse_lines("noord: twintig").is_err());
    }
}
