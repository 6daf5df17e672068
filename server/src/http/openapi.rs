//! The OpenAPI 3.1 description of `/api/v1` and the health endpoints, served at
//! `/api/v1/openapi.json`: the handlers' `#[utoipa::path]` annotations, plus the rules
//! that hold for every operation and so are written once here ([`contract`]): who may
//! call it (session cookie, CSRF header), `Idempotency-Key` on every POST that honours it,
//! and the shared error answers with the JSON envelope. Every closed word set of the
//! domain is published under its own name ([`closed_sets`]).
//!
//! A new route needs a `#[utoipa::path]` with an `operation_id` on its handler and the
//! handler listed in `paths(…)` below; `server/tests/api/contract.rs` fails until both
//! are there, and runs the validator and schemathesis over the result.

use std::borrow::Cow;
use std::sync::OnceLock;

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::error::{ApiError, ErrorBody};
use super::routes::{
    auth, cases, draws, health, invitations, moderation, municipalities, notifications, posts,
    privacy, retention,
};
use crate::domain::{
    AgeBand, CaseStatus, CheckOutcome, ClosedSet, ExportFormat, FlagReason, LegalDomain, ModAction,
    ModerationMode, Outcome, PostStatus, QueueKind, Role, SessionKind, Verdict, WeighingValue,
    WmoExperience,
};
use crate::service::Error;
use crate::service::draws::DrawFeature;

/// The API description from the annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Beraad API",
        description = "Deliberation forum engine: cases, reactions, replies, weighings and flags.\n\n\
            Log in (`loginPanelist` with the code from the letter, `loginStaff` with e-mail and \
            password) to get the `beraad_session` cookie (HttpOnly). Every state-changing request \
            also sends the session's `csrf_token` as `X-CSRF-Token`, and every POST you may retry \
            an `Idempotency-Key`: a retry with the same key gets the first answer again \
            (`Idempotent-Replayed: true`).\n\n\
            Every refusal is `{\"error\":{\"code\",\"message\"}}` with a stable `code` and a Dutch \
            `message` (and `fields` when it is about named fields of the request). Closed sets of \
            words (verdicts, statuses, roles, …) are published as named schemas with exactly the \
            words sent and accepted. Live updates come over the WebSocket at `/api/v1/ws` (see \
            docs/protocol.md).",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
        version = env!("CARGO_PKG_VERSION"),
    ),
    paths(
        openapi_json, super::ws::upgrade,
        health::healthz, health::readyz, health::metrics,
        auth::login_invite, auth::login_staff, auth::logout, auth::session,
        auth::profile, auth::set_profile, auth::change_password,
        cases::list, cases::create, cases::get, cases::update, cases::schedule, cases::open,
        cases::close, cases::move_closing, cases::events, cases::export, cases::export_head, cases::analysis,
        cases::outcome,
        posts::thread, posts::create, posts::get, posts::edit, posts::withdraw, posts::weigh,
        posts::flag, posts::contest, posts::revisions, posts::check,
        moderation::counts, moderation::queue, moderation::handled, moderation::claim,
        moderation::release, moderation::act, moderation::suspend, moderation::premoderate,
        moderation::audit, moderation::audit_export, moderation::audit_export_head,
        moderation::get_policy,
        moderation::policy,
        draws::make, draws::report, draws::verify, draws::top_up, draws::pool,
        draws::population, draws::set_population,
        invitations::create_batch, invitations::batch, invitations::response,
        invitations::invitation, invitations::revoke, invitations::replace,
        invitations::letter, invitations::set_letter,
        municipalities::contact, municipalities::set_contact,
        notifications::settings, notifications::set_settings, notifications::remove,
        notifications::confirm, notifications::unsubscribe, notifications::announce,
        notifications::outbox,
        privacy::own_data, privacy::leave, privacy::leave_on_request,
        retention::settings, retention::set_settings, retention::plan, retention::run,
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "auth", description = "Logging in and out; the session; a panelist's profile"),
        (name = "cases", description = "Cases (casussen): writing, scheduling, opening, closing, the event log, exports and analysis"),
        (name = "posts", description = "The thread: reactions, replies, edits, withdrawals, weighings and flags"),
        (name = "moderation", description = "Moderation queues and actions; the audit log"),
        (name = "draws", description = "The draw of a case's panel from its pool (loting)"),
        (name = "invitations", description = "Letters, invitation numbers, lost codes and the response"),
        (name = "notifications", description = "Notifications by e-mail: a panelist's consented address, the signed links in a message, staff announcements"),
        (name = "live", description = "The WebSocket for live updates"),
        (name = "operations", description = "Health, readiness, metrics and this description"),
        (name = "municipalities", description = "What a municipality tells its residents"),
        (name = "privacy", description = "A resident's own data, leaving the panel, and retention"),
    )
)]
pub struct ApiDoc;

/// One closed set as the document publishes it and serde speaks it.
pub struct PublishedSet {
    /// The schema's name under `components.schemas`.
    pub name: Cow<'static, str>,
    /// What serde writes for every value, in declaration order.
    pub words: Vec<String>,
    /// Whether serde reads a word back as a value of the set.
    pub accepts: fn(&str) -> bool,
    schema: RefOr<Schema>,
}

fn set<T: ClosedSet>() -> PublishedSet {
    fn accepts<T: ClosedSet>(word: &str) -> bool {
        serde_json::from_value::<T>(Value::String(word.to_owned())).is_ok()
    }
    PublishedSet {
        name: T::name(),
        words: T::all()
            .iter()
            .map(|v| match serde_json::to_value(v) {
                Ok(Value::String(w)) => w,
                other => format!("{other:?}"),
            })
            .collect(),
        accepts: accepts::<T>,
        schema: T::schema(),
    }
}

/// Every closed set of words the API sends or accepts. A new one goes here; the contract
/// test fails for a named enum in the document that is not on this list.
pub fn closed_sets() -> Vec<PublishedSet> {
    vec![
        set::<Verdict>(),
        set::<WeighingValue>(),
        set::<FlagReason>(),
        set::<Role>(),
        set::<CaseStatus>(),
        set::<ModerationMode>(),
        set::<Outcome>(),
        set::<LegalDomain>(),
        set::<PostStatus>(),
        set::<ModAction>(),
        set::<AgeBand>(),
        set::<WmoExperience>(),
        set::<SessionKind>(),
        set::<QueueKind>(),
        set::<ExportFormat>(),
        set::<CheckOutcome>(),
        set::<crate::domain::PostsOnLeaving>(),
        set::<DrawFeature>(),
        set::<crate::service::invitations::BatchKind>(),
        set::<super::routes::invitations::LettersFormat>(),
        set::<crate::service::export::Separator>(),
        set::<crate::domain::NotificationKind>(),
        set::<crate::domain::NotificationFrequency>(),
        set::<crate::domain::MailLanguage>(),
        set::<crate::domain::AnnouncementKind>(),
    ]
}

/// Operations anyone may call, without a session.
const PUBLIC: [(&str, &str); 7] = [
    ("POST", "/api/v1/auth/invite"),
    ("POST", "/api/v1/notifications/confirm"),
    ("POST", "/api/v1/notifications/unsubscribe"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
];

/// The operations that take the metrics token instead of a session.
const METRICS: (&str, &str) = ("GET", "/metrics");

/// The shared error answers: name under `components.responses`, status, what it means,
/// and real errors of the server as examples.
fn shared_responses() -> Vec<(&'static str, StatusCode, &'static str, Vec<ApiError>)> {
    let s = StatusCode::BAD_REQUEST;
    vec![
        (
            "BadRequest",
            s,
            "The request cannot be read: not JSON, a query parameter of the wrong kind, a bad Idempotency-Key.",
            vec![
                ApiError::new(s, "invalid_json", "Het verzoek is geen geldige JSON."),
                ApiError::unreadable(s, "invalid_query", "limit", "invalid digit found in string"),
                super::idempotency::invalid_key(),
            ],
        ),
        (
            "Unauthorized",
            StatusCode::UNAUTHORIZED,
            "No (longer a) session, or a login that failed.",
            vec![ApiError::from(Error::unauthenticated())],
        ),
        (
            "Forbidden",
            StatusCode::FORBIDDEN,
            "The session may not do this: its role, a missing or wrong X-CSRF-Token, a foreign Origin.",
            vec![
                super::extract::csrf_failed(),
                ApiError::from(Error::forbidden(
                    "forbidden",
                    "Hiervoor is de rol 'admin' nodig.",
                )),
            ],
        ),
        (
            "NotFound",
            StatusCode::NOT_FOUND,
            "Not there, or not for this session (another municipality's resources answer the same).",
            vec![ApiError::not_found()],
        ),
        (
            "MethodNotAllowed",
            StatusCode::METHOD_NOT_ALLOWED,
            "The path has no such method; `Allow` lists those it has.",
            vec![ApiError::method_not_allowed()],
        ),
        (
            "Conflict",
            StatusCode::CONFLICT,
            "The request conflicts with the current state (a closed case, a post changed since it was read, a request with the same Idempotency-Key still running).",
            vec![
                ApiError::from(Error::conflict(
                    "case_not_open",
                    "Alleen een geopende casus kan worden gesloten.",
                )),
                super::idempotency::in_progress(),
            ],
        ),
        (
            "PayloadTooLarge",
            StatusCode::PAYLOAD_TOO_LARGE,
            "The body is over 64 KiB.",
            vec![ApiError::payload_too_large()],
        ),
        (
            "UnsupportedMediaType",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The body is not sent as application/json.",
            vec![ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Stuur JSON met Content-Type: application/json.",
            )],
        ),
        (
            "UnprocessableEntity",
            StatusCode::UNPROCESSABLE_ENTITY,
            "The input breaks a rule: a missing or unknown field, a value of the wrong kind, a text too short or too long, personal data, an invisible control character; `fields` names the fields.",
            vec![
                ApiError::unreadable(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    "",
                    "missing field `body`",
                ),
                ApiError::from(super::extract::control_character_error()),
                super::idempotency::key_reused(),
            ],
        ),
        (
            "TooManyRequests",
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests, logins or connections from this client; wait `Retry-After` seconds.",
            vec![ApiError::from(Error::RateLimited {
                retry_after_secs: 30,
            })],
        ),
        (
            "ServiceUnavailable",
            StatusCode::SERVICE_UNAVAILABLE,
            "The node cannot serve now (the database cannot write, the node is full or shutting down); nothing changed, retry after `Retry-After` seconds.",
            vec![ApiError::from(Error::Unavailable {
                retry_after_secs: crate::service::error::UNAVAILABLE_RETRY_SECS,
                detail: String::new(),
            })],
        ),
    ]
}

/// The shared answer for a status.
fn shared_name(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        422 => "UnprocessableEntity",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        _ => return None,
    })
}

/// The document as served: [`ApiDoc`] with [`contract`] applied.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    contract(&mut doc);
    doc
}

/// Applies the rules that hold for every operation. See the module documentation.
fn contract(doc: &mut Value) {
    let mut components = doc
        .get_mut("components")
        .and_then(Value::as_object_mut)
        .map(std::mem::take)
        .unwrap_or_default();

    // Closed sets under their own names (also those no operation names yet).
    let mut schemas = components
        .get_mut("schemas")
        .and_then(Value::as_object_mut)
        .map(std::mem::take)
        .unwrap_or_default();
    for s in closed_sets() {
        schemas.insert(
            s.name.to_string(),
            serde_json::to_value(&s.schema).unwrap_or_default(),
        );
    }
    components.insert("schemas".into(), Value::Object(schemas));

    components.insert(
        "securitySchemes".into(),
        json!({
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": super::extract::SESSION_COOKIE,
                "description": "The session cookie (HttpOnly, SameSite=Lax) set by loginPanelist or loginStaff."
            },
            "csrf": {
                "type": "apiKey",
                "in": "header",
                "name": "X-CSRF-Token",
                "description": "The session's `csrf_token` (from the login answer or getSession), required on every request other than GET and HEAD."
            },
            "metricsToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "BERAAD_METRICS_TOKEN."
            }
        }),
    );
    components.insert(
        "parameters".into(),
        json!({
            "IdempotencyKey": {
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "Makes a retry safe: the first answer is stored and a retry with the same key (same session, same request) gets it again with `Idempotent-Replayed: true`. The same key with another request answers 422 idempotency_key_reused; while the first still runs, 409 idempotency_in_progress with Retry-After.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"},
                "example": "8d0c6f1e-3b7a-4c2e-9a51-2f4e7b1d9c30"
            }
        }),
    );
    let retry_after = json!({
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0}
    });
    let mut responses = Map::new();
    for (name, status, description, examples) in shared_responses() {
        let mut ex = Map::new();
        for e in &examples {
            ex.insert(
                e.code().to_owned(),
                json!({"summary": e.code(), "value": e.body()}),
            );
        }
        let mut r = json!({
            "description": format!("{} {}", status.as_u16(), description),
            "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorBody"},
                "examples": ex,
            }},
        });
        if matches!(status.as_u16(), 409 | 429 | 503) {
            r["headers"] = json!({"Retry-After": retry_after});
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            r["headers"] = json!({"Allow": {
                "description": "The methods the path has.",
                "schema": {"type": "string"}
            }});
        }
        responses.insert(name.into(), r);
    }
    components.insert("responses".into(), Value::Object(responses));
    doc["components"] = Value::Object(components);

    // Every text the server reads refuses control characters other than tab and line
    // breaks (`422 control_character`): say so on every string of every request.
    let request_schemas = request_schema_names(doc);
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            if request_schemas.contains(name) {
                no_control_characters(schema);
            }
        }
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                let params = op.get_mut("parameters").and_then(Value::as_array_mut);
                for p in params.into_iter().flatten() {
                    if let Some(schema) = p.get_mut("schema") {
                        no_control_characters(schema);
                    }
                }
            }
        }
    }

    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            operation(&method, path, op);
        }
    }
}

/// What the JSON extractor refuses in any string (see `extract::has_control_character`).
const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$";

/// Adds [`NO_CONTROL_CHARACTERS`] to every free string (no enum, format or pattern of
/// its own) in `schema`, however deep.
fn no_control_characters(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            let free = !["enum", "format", "pattern", "const"]
                .iter()
                .any(|k| map.contains_key(*k))
                && map.get("maxLength") != Some(&json!(0));
            if string && free {
                map.insert("pattern".into(), NO_CONTROL_CHARACTERS.into());
            }
            for (k, v) in map.iter_mut() {
                if k != "examples" && k != "example" {
                    no_control_characters(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(no_control_characters),
        _ => {}
    }
}

/// The component schemas a request body can hold, following references.
fn request_schema_names(doc: &Value) -> std::collections::BTreeSet<String> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref")
                    && let Some(name) = r.strip_prefix("#/components/schemas/")
                {
                    out.push(name.to_owned());
                }
                map.values().for_each(|x| refs(x, out));
            }
            Value::Array(items) => items.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut todo = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            refs(&op["requestBody"], &mut todo);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            refs(&doc["components"]["schemas"][&name], &mut todo);
        }
    }
    seen
}

/// The rules for one operation.
fn operation(method: &Method, path: &str, op: &mut Value) {
    let key = (method.as_str(), path);
    let public = PUBLIC.contains(&key);
    let metrics = key == METRICS;
    let safe = matches!(*method, Method::GET | Method::HEAD);
    op["security"] = if public {
        json!([])
    } else if metrics {
        json!([{"metricsToken": []}])
    } else if safe {
        json!([{"session": []}])
    } else {
        json!([{"session": [], "csrf": []}])
    };
    let idempotent = path.starts_with("/api/v1/") && super::idempotency::honours(method, path);
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let has_query = params.iter().any(|p| p["in"] == "query");
    let has_path = params.iter().any(|p| p["in"] == "path") || path.contains('{');
    if idempotent {
        let mut params = params;
        params.push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
        op["parameters"] = Value::Array(params);
    }

    let mut statuses: Vec<u16> = vec![429, 503];
    if !public {
        statuses.push(401);
    }
    if !safe {
        // The Origin check refuses writes from foreign sites, logins included.
        statuses.push(403);
    }
    if has_query {
        statuses.extend([400, 422]);
    }
    if has_path || has_query || op["requestBody"].is_object() {
        // A path names a resource; a query or a body may too (`?municipality=`,
        // `parent_id`, `panels`).
        statuses.push(404);
    }
    if op["requestBody"].is_object() {
        statuses.extend([400, 413, 415, 422]);
    }
    if idempotent {
        statuses.extend([400, 409, 422]);
    }
    let responses = op["responses"].as_object_mut().map(std::mem::take);
    let mut responses = responses.unwrap_or_default();
    for (status, r) in responses.iter_mut() {
        if status.starts_with('2') && idempotent {
            let headers = r
                .as_object_mut()
                .map(|o| o.entry("headers").or_insert_with(|| json!({})));
            if let Some(h) = headers {
                h["Idempotent-Replayed"] = json!({
                    "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
                    "schema": {"type": "string", "enum": ["true"]}
                });
            }
        }
        if let Ok(n) = status.parse::<u16>()
            && n >= 400
        {
            statuses.push(n);
        }
    }
    for status in statuses {
        // A declared answer with a body of its own (`/readyz`'s 503) stays as it is.
        let own = responses.get(&status.to_string()).is_some_and(|r| {
            r["content"].as_object().is_some_and(|c| {
                c.values()
                    .any(|m| m["schema"]["$ref"] != "#/components/schemas/ErrorBody")
            })
        });
        if own {
            continue;
        }
        if let Some(name) = shared_name(status) {
            responses.insert(
                status.to_string(),
                json!({"$ref": format!("#/components/responses/{name}")}),
            );
        }
    }
    op["responses"] = Value::Object(responses);
}

/// This OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", operation_id = "getOpenApi",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    let text = DOC.get_or_init(|| document().to_string()).clone();
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Whether `schema` (a `RefOr<Schema>` from a closed set) is a plain string enum; for the
/// unit test below.
#[cfg(test)]
fn is_string_enum(schema: &RefOr<Schema>) -> bool {
    let v = serde_json::to_value(schema).unwrap_or_default();
    v["type"] == "string" && v["enum"].is_array()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_closed_set_is_a_string_enum_of_the_serde_words() {
        for s in closed_sets() {
            assert!(is_string_enum(&s.schema), "{}", s.name);
            let v = serde_json::to_value(&s.schema).expect("schema");
            assert_eq!(v["enum"], json!(s.words), "{}", s.name);
            assert!(s.words.iter().all(|w| (s.accepts)(w)), "{}", s.name);
        }
    }

    #[test]
    fn the_document_has_unique_operation_ids() {
        let doc = document();
        let mut ids = std::collections::BTreeSet::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                if let Some(id) = op["operationId"].as_str() {
                    assert!(ids.insert(id.to_owned()), "{id} twice");
                }
            }
        }
    }
}
