//! The API contract: `/api/v1/openapi.json` against the router, the domain's closed sets
//! and the server's answers. The document must be valid OpenAPI 3.1
//! (`openapi-spec-validator`), cover every route the router registers (and nothing
//! else), publish every closed set with the very words serde sends and accepts, declare
//! the session cookie, the CSRF header, `Idempotency-Key` and the shared error answers;
//! and a bounded `schemathesis` run, once as a panelist and once as an admin, with all
//! its checks, must find nothing.
//!
//! Both tools come from PyPI (pinned in `scripts/contract-tools.txt`); `scripts/test`
//! installs them with `pip install --target` into `<target>/contract-tools`. These
//! tests fail, with the command to run, when the tools are missing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use beraad::http::openapi;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, routes_in, spawn_app, spawn_app_with_settings};

// ---------------------------------------------------------------------------------------
// The tools.

/// The pinned requirements, shared with `scripts/test`.
const REQUIREMENTS: &str = include_str!("../../../scripts/contract-tools.txt");

/// Python with the contract tools on its path.
struct Tools {
    python: String,
    dir: PathBuf,
}

impl Tools {
    /// Finds the tools: in `BERAAD_CONTRACT_TOOLS` or `<target>/contract-tools` (where
    /// `scripts/test` installs them), run by `BERAAD_PYTHON` or `python3`. Panics with
    /// the command that installs them when they are not there.
    fn find() -> Tools {
        let dir = std::env::var_os("BERAAD_CONTRACT_TOOLS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../contract-tools")
            });
        let python = std::env::var("BERAAD_PYTHON").unwrap_or_else(|_| "python3".into());
        let tools = Tools { python, dir };
        let ok = tools
            .module_command("-c")
            .arg("import schemathesis, openapi_spec_validator")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let wanted: Vec<&str> = REQUIREMENTS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(
            ok,
            "The API contract tests need openapi-spec-validator and schemathesis from PyPI \
             in {dir}. Run scripts/test (which installs them), or:\n  \
             {python} -m pip install --target {dir} {wanted}\n\
             (BERAAD_CONTRACT_TOOLS names another directory, BERAAD_PYTHON another python3.)",
            dir = tools.dir.display(),
            python = tools.python,
            wanted = wanted.join(" "),
        );
        tools
    }

    /// `python <flag>` with the tools' directory on `PYTHONPATH`.
    fn module_command(&self, flag: &str) -> Command {
        let mut c = Command::new(&self.python);
        c.env("PYTHONPATH", &self.dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg(flag);
        c
    }

    /// Runs `python -m module args…` to its end (off the async runtime); the exit
    /// status and everything it printed.
    async fn run(
        &self,
        module: &str,
        args: Vec<String>,
        env: Vec<(&str, String)>,
        cwd: PathBuf,
    ) -> (bool, String) {
        let mut c = self.module_command("-m");
        c.arg(module).args(args).envs(env).current_dir(cwd);
        let out = tokio::task::spawn_blocking(move || c.output())
            .await
            .expect("join")
            .expect("run python");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

// ---------------------------------------------------------------------------------------
// The document against itself, the router and the domain.

async fn document(app: &TestApp) -> Value {
    let (status, doc) = app.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of the document: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_openapi_3_1() {
    let tools = Tools::find();
    let app = spawn_app(Engine::Sqlite).await;
    let doc = document(&app).await;
    assert_eq!(
        doc["openapi"].as_str().map(|v| &v[..3]),
        Some("3.1"),
        "{}",
        doc["openapi"]
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).expect("write");
    let (ok, out) = tools
        .run(
            "openapi_spec_validator",
            vec![
                "--schema".into(),
                "3.1".into(),
                "--subschema-errors".into(),
                "all".into(),
                file.display().to_string(),
            ],
            Vec::new(),
            dir.path().to_owned(),
        )
        .await;
    assert!(ok, "openapi-spec-validator refuses the document:\n{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_resolves() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc = document(&app).await;
    let mut missing = BTreeSet::new();
    fn walk(v: &Value, doc: &Value, missing: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let target = r
                        .strip_prefix('#')
                        .and_then(|p| doc.pointer(p))
                        .filter(|t| !t.is_null());
                    if target.is_none() {
                        missing.insert(r.clone());
                    }
                }
                map.values().for_each(|x| walk(x, doc, missing));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, doc, missing)),
            _ => {}
        }
    }
    walk(&doc, &doc, &mut missing);
    assert!(missing.is_empty(), "references to nothing: {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_ids_are_unique_and_say_what_they_do() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc = document(&app).await;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for (method, path, op) in operations(&doc) {
        let what = format!("{method} {path}");
        let Some(id) = op["operationId"].as_str() else {
            problems.push(format!("{what}: no operationId"));
            continue;
        };
        // lowerCamelCase of at least two words: a verb and what it acts on.
        let camel = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric())
            && id.chars().any(|c| c.is_ascii_uppercase());
        if !camel {
            problems.push(format!(
                "{what}: operationId {id:?} is not verbNoun camelCase"
            ));
        }
        if let Some(other) = seen.insert(id.to_owned(), what.clone()) {
            problems.push(format!("{what}: operationId {id:?} also names {other}"));
        }
        if op["summary"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{what}: no summary"));
        }
        if op["tags"].as_array().is_none_or(Vec::is_empty) {
            problems.push(format!("{what}: no tag"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_router_is_documented_and_nothing_else() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc = document(&app).await;
    let mut routed = routes_in(
        include_str!("../../src/http/routes/mod.rs"),
        "api_routes",
        "/api/v1",
    );
    assert!(routed.len() >= 40, "router not read: {routed:?}");
    let outer = routes_in(include_str!("../../src/http/mod.rs"), "router", "");
    for want in ["/healthz", "/readyz", "/metrics"] {
        assert!(
            outer.contains(&("GET".into(), want.into())),
            "{want} not read from http/mod.rs: {outer:?}"
        );
    }
    routed.extend(outer);
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /api/v1/openapi.json (annotate the handler with \
         #[utoipa::path] and list it in http/openapi.rs): {undocumented:#?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sets_publish_the_words_the_server_sends_and_accepts() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc = document(&app).await;
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let sets = openapi::closed_sets();
    assert!(sets.len() >= 12, "closed sets: {}", sets.len());
    let mut problems = Vec::new();
    let mut registered = BTreeSet::new();
    for set in &sets {
        registered.insert(set.name.to_string());
        // What serde sends for every variant, and that serde takes each word back.
        let sent: Vec<Value> = set.words.iter().map(|w| json!(w)).collect();
        for word in &set.words {
            if !(set.accepts)(word) {
                problems.push(format!("{}: serde does not accept {word:?}", set.name));
            }
        }
        match schemas.get(set.name.as_ref()) {
            None => problems.push(format!("{}: not among components.schemas", set.name)),
            Some(schema) => {
                if schema["type"] != "string" || schema["enum"] != Value::Array(sent.clone()) {
                    problems.push(format!(
                        "{}: published {schema}, serde speaks {sent:?}",
                        set.name
                    ));
                }
            }
        }
    }
    // Every closed set in the document is one of the registered ones, so a new enum
    // cannot be published without this cross-check.
    for (name, schema) in schemas {
        if schema.get("enum").is_some() && !registered.contains(name) {
            problems.push(format!(
                "{name}: an enum in the document that http::openapi::closed_sets() does not \
                 cross-check"
            ));
        }
    }
    // And none is spelled out inline (which nothing would check): a word set of more
    // than one word anywhere outside components.schemas.<Set> is a mistake.
    fn inline(v: &Value, at: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(words)) = map.get("enum")
                    && words.len() > 1
                {
                    out.push(format!(
                        "{at}: inline enum {words:?}; use a named closed set"
                    ));
                }
                for (k, x) in map {
                    inline(x, &format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    inline(x, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    inline(&doc["paths"], "#/paths", &mut problems);
    for (name, schema) in schemas {
        if schema.get("enum").is_none() {
            inline(
                schema,
                &format!("#/components/schemas/{name}"),
                &mut problems,
            );
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The closed sets that requests carry, by where they appear: each must point at its set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_closed_sets_as_their_schemas() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc = document(&app).await;
    let s = &doc["components"]["schemas"];
    let refers = |v: &Value, set: &str| {
        v.to_string()
            .contains(&format!("#/components/schemas/{set}\""))
    };
    let fields = [
        ("NewCase", "domain", "LegalDomain"),
        ("NewCase", "outcome", "Outcome"),
        ("NewCase", "moderation_mode", "ModerationMode"),
        ("CaseChanges", "domain", "LegalDomain"),
        ("CaseChanges", "outcome", "Outcome"),
        ("CaseChanges", "moderation_mode", "ModerationMode"),
        ("EditPostInput", "verdict", "Verdict"),
        ("WeighingInput", "value", "WeighingValue"),
        ("FlagInput", "reason", "FlagReason"),
        ("ActionInput", "reason", "FlagReason"),
        ("ProfileInput", "age_band", "AgeBand"),
        ("ProfileInput", "wmo_experience", "WmoExperience"),
        ("ProfileView", "age_band", "AgeBand"),
        ("ProfileView", "wmo_experience", "WmoExperience"),
        ("SessionView", "kind", "SessionKind"),
    ];
    let mut problems = Vec::new();
    for (schema, field, set) in fields {
        let prop = &s[schema]["properties"][field];
        if !refers(prop, set) {
            problems.push(format!("{schema}.{field} is {prop}, not {set}"));
        }
    }
    // A reaction carries a verdict and no parent; a reply a parent and no verdict.
    let new_post = s["NewPostInput"].to_string();
    for want in ["NewReaction", "NewReply"] {
        if !new_post.contains(&format!("#/components/schemas/{want}\"")) {
            problems.push(format!(
                "NewPostInput is not one of NewReaction, NewReply: {new_post}"
            ));
        }
    }
    if !refers(&s["NewReaction"]["properties"]["verdict"], "Verdict") {
        problems.push(format!("NewReaction.verdict: {}", s["NewReaction"]));
    }
    // Parameters: the queue kind, the export format, the moderator's action.
    for (method, path, name, set) in [
        (
            "get",
            "/api/v1/moderation/{municipality}/queue",
            "kind",
            "QueueKind",
        ),
        ("get", "/api/v1/cases/{id}/export", "format", "ExportFormat"),
        (
            "post",
            "/api/v1/moderation/posts/{id}/{action}",
            "action",
            "ModAction",
        ),
    ] {
        let param = doc["paths"][path][method]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or(Value::Null);
        if !refers(&param, set) {
            problems.push(format!("{method} {path} {name}: {param}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_errors_idempotency_and_limits_are_declared() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc = document(&app).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["in"], "cookie", "{schemes}");
    assert_eq!(schemes["session"]["name"], "beraad_session", "{schemes}");
    assert_eq!(schemes["csrf"]["in"], "header", "{schemes}");
    assert_eq!(schemes["csrf"]["name"], "X-CSRF-Token", "{schemes}");
    let shared = &doc["components"]["responses"];
    let names = [
        (400, "BadRequest"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "NotFound"),
        (405, "MethodNotAllowed"),
        (409, "Conflict"),
        (413, "PayloadTooLarge"),
        (415, "UnsupportedMediaType"),
        (422, "UnprocessableEntity"),
        (429, "TooManyRequests"),
        (503, "ServiceUnavailable"),
    ];
    for (status, name) in names {
        let r = &shared[name];
        assert!(
            r.is_object(),
            "no shared response {name} for {status}: {shared}"
        );
        let content = &r["content"]["application/json"];
        assert_eq!(
            content["schema"]["$ref"], "#/components/schemas/ErrorBody",
            "{status}: {r}"
        );
        assert!(
            content["examples"]
                .as_object()
                .is_some_and(|e| !e.is_empty()),
            "{status} has no examples: {r}"
        );
    }
    for name in ["Conflict", "TooManyRequests", "ServiceUnavailable"] {
        let r = &shared[name];
        assert!(r["headers"]["Retry-After"].is_object(), "{name}: {r}");
    }

    let public = [
        ("POST", "/api/v1/auth/invite"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/notifications/confirm"),
        ("POST", "/api/v1/notifications/unsubscribe"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
    ];
    let mut problems = Vec::new();
    for (method, path, op) in operations(&doc) {
        let what = format!("{method} {path}");
        let security = op["security"].as_array().cloned().unwrap_or_default();
        let is_public = public.contains(&(method.as_str(), path.as_str()));
        let safe = matches!(method.as_str(), "GET" | "HEAD");
        if is_public {
            let anonymous = security.is_empty()
                || security
                    .iter()
                    .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            if !anonymous && path != "/metrics" {
                problems.push(format!("{what}: public, yet declares {security:?}"));
            }
        } else {
            let want: BTreeSet<&str> = if safe {
                ["session"].into()
            } else {
                ["session", "csrf"].into()
            };
            let ok = security.len() == 1
                && security[0]
                    .as_object()
                    .is_some_and(|o| o.keys().map(String::as_str).collect::<BTreeSet<_>>() == want);
            if !ok {
                problems.push(format!("{what}: security {security:?}, want {want:?}"));
            }
        }
        let responses = op["responses"].as_object().cloned().unwrap_or_default();
        let mut want_status: Vec<&str> = Vec::new();
        if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
            want_status.extend(["429", "503"]);
        }
        if !is_public && path.starts_with("/api/v1/") {
            want_status.push("401");
        }
        if !safe && !is_public {
            want_status.push("403");
        }
        if op["requestBody"].is_object() {
            want_status.extend(["400", "413", "415", "422"]);
        }
        if path.contains('{') {
            want_status.push("404");
        }
        for s in want_status {
            if !responses.contains_key(s) {
                problems.push(format!("{what}: no {s} answer"));
            }
        }
        // Every error answer is the envelope: a shared answer, or (for a status only one
        // operation has, like the WebSocket's 426) the ErrorBody schema itself.
        for (status, r) in &responses {
            if status.starts_with('4') || status.starts_with('5') {
                let shared = r["$ref"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("#/components/responses/"));
                let envelope = r["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/ErrorBody";
                let metrics_or_ready = path == "/readyz" || path == "/metrics";
                if !shared && !envelope && !metrics_or_ready {
                    problems.push(format!("{what}: {status} is not the error envelope: {r}"));
                }
            }
        }
        // Every POST honours Idempotency-Key, except the logins and the signed links of
        // a message (no session to key a claim by; following one twice changes nothing).
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let has_key = params
            .iter()
            .any(|p| p["$ref"] == "#/components/parameters/IdempotencyKey");
        let honours = method == "POST"
            && !path.starts_with("/api/v1/auth/")
            && !path.starts_with("/api/v1/notifications/");
        if honours != has_key {
            problems.push(format!(
                "{what}: Idempotency-Key declared {has_key}, honoured {honours}"
            ));
        }
        if honours {
            let ok = responses
                .iter()
                .filter(|(s, _)| s.starts_with('2'))
                .all(|(_, r)| r["headers"]["Idempotent-Replayed"].is_object());
            if !ok {
                problems.push(format!(
                    "{what}: a success answer without Idempotent-Replayed"
                ));
            }
            if !responses.contains_key("409") || !responses.contains_key("422") {
                problems.push(format!("{what}: idempotency's 409 and 422 missing"));
            }
        }
        // Every page size states its real maximum.
        for p in &params {
            if p["name"] == "limit" && p["schema"]["maximum"].as_u64().is_none() {
                problems.push(format!("{what}: limit without maximum: {p}"));
            }
        }
        // Something to show: every JSON request body has an example.
        if let Some(body) = op["requestBody"]["content"]["application/json"].as_object() {
            let has = body.contains_key("example")
                || body.contains_key("examples")
                || body["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| doc.pointer(r.trim_start_matches('#')))
                    .is_some_and(|s| s.get("example").is_some() || s.get("examples").is_some());
            if !has {
                problems.push(format!("{what}: request body without an example"));
            }
        }
    }
    // Exports say what they are.
    for (path, types) in [
        (
            "/api/v1/cases/{id}/export",
            vec!["application/jsonl", "text/csv"],
        ),
        ("/api/v1/audit/export", vec!["text/csv"]),
    ] {
        let ok = &doc["paths"][path]["get"]["responses"]["200"];
        for t in types {
            if !ok["content"][t].is_object() {
                problems.push(format!("GET {path}: 200 without {t}: {ok}"));
            }
        }
        if !ok["headers"]["Content-Disposition"].is_object() {
            problems.push(format!("GET {path}: no Content-Disposition"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

// ---------------------------------------------------------------------------------------
// Answers outside the envelope.

/// English text serde or axum would write; none of it may reach a message.
const ENGLISH: [&str; 10] = [
    "expected",
    "invalid type",
    "missing field",
    "unknown field",
    "unknown variant",
    "at line",
    "column",
    "Failed to",
    "invalid digit",
    "Method Not Allowed",
];

/// Asserts that an answer is the JSON error envelope with `code`, a Dutch message free
/// of English parser text; returns the body.
async fn envelope(resp: reqwest::Response, status: u16, code: &str) -> Value {
    let what = format!("{} {}", resp.url().path(), resp.status());
    assert_eq!(resp.status().as_u16(), status, "{what}");
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.expect("body");
    assert!(
        ctype.starts_with("application/json"),
        "{what}: {ctype} {text:?}"
    );
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: {text:?}"));
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{what}: {body}");
    for english in ENGLISH {
        assert!(!message.contains(english), "{what}: English in {message:?}");
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_4xx_under_api_v1_is_the_json_envelope() {
    let app = spawn_app(Engine::Sqlite).await;
    let t = app.tenant("utrecht", 1).await;
    let anon = app.anonymous();
    let admin = app.staff(&t.admin).await;
    let url = |p: &str| format!("{}{p}", app.base);

    // A method the route does not have: 405 with Allow and the envelope.
    let resp = anon
        .http
        .delete(url("/api/v1/cases"))
        .send()
        .await
        .expect("send");
    let allow = resp
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow:?}"
    );
    envelope(resp, 405, "method_not_allowed").await;
    let resp = anon
        .http
        .put(url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("send");
    envelope(resp, 405, "method_not_allowed").await;

    // The WebSocket door asks who you are first, then for the upgrade.
    let resp = anon.http.get(url("/api/v1/ws")).send().await.expect("send");
    envelope(resp, 401, "unauthenticated").await;
    let resp = admin
        .http
        .get(url("/api/v1/ws"))
        .header("cookie", admin.session_cookie.clone().expect("cookie"))
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.headers().get("upgrade").and_then(|v| v.to_str().ok()),
        Some("websocket")
    );
    assert!(
        resp.headers()
            .get("connection")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("upgrade")),
        "{:?}",
        resp.headers()
    );
    envelope(resp, 426, "upgrade_required").await;

    // Bodies serde refuses: a Dutch message naming the field, never serde's English.
    let send = |body: &'static str| {
        anon.http
            .post(url("/api/v1/auth/invite"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let body = envelope(
        send(r#"{"code": 5}"#).await.expect("send"),
        422,
        "invalid_body",
    )
    .await;
    assert_eq!(body["error"]["fields"], json!(["code"]), "{body}");
    let body = envelope(send("{}").await.expect("send"), 422, "invalid_body").await;
    assert_eq!(body["error"]["fields"], json!(["code"]), "{body}");
    let body = envelope(
        send(r#"{"code": "x", "extra": 1}"#).await.expect("send"),
        422,
        "invalid_body",
    )
    .await;
    assert_eq!(body["error"]["fields"], json!(["extra"]), "{body}");
    envelope(
        send(r#"{"code": "#).await.expect("send"),
        400,
        "invalid_json",
    )
    .await;
    let (status, body) = admin
        .post(
            "/api/v1/cases",
            json!({"municipality": "utrecht", "title": ["x"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"], json!(["title"]), "{body}");

    // Queries likewise.
    let resp = admin
        .http
        .get(url("/api/v1/moderation/utrecht/queue?kind=alles"))
        .send()
        .await
        .expect("send");
    let body = envelope(resp, 400, "invalid_query").await;
    assert_eq!(body["error"]["fields"], json!(["kind"]), "{body}");
    let resp = admin
        .http
        .get(url("/api/v1/cases/1/events?after=gisteren"))
        .send()
        .await
        .expect("send");
    let body = envelope(resp, 400, "invalid_query").await;
    assert_eq!(body["error"]["fields"], json!(["after"]), "{body}");
}

// ---------------------------------------------------------------------------------------
// schemathesis.

/// A server with a tenant (`utrecht`, whose ids the document's examples name), an open
/// case with a reaction and a reply, and login throttles that let the fuzzer through.
async fn seeded() -> (TestApp, crate::helpers::Tenant) {
    let mut settings = beraad::service::ServiceSettings {
        rate_limits: beraad::service::ratelimit::RateLimits::unlimited(),
        ..Default::default()
    };
    settings.login_limits.per_ip_per_minute = 100_000;
    settings.login_limits.global_per_second = 100_000;
    let app = spawn_app_with_settings(
        Engine::Sqlite,
        beraad::realtime::HubSettings::default(),
        settings,
    )
    .await;
    let t = app.tenant("utrecht", 3).await;
    let case = app.open_case(&t, json!({})).await;
    let first = app.panelist(&t.codes[0]).await;
    let (status, post) = first
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"verdict": "oneens", "body": "Een traplift is hier redelijker dan verhuizen."}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    let second = app.panelist(&t.codes[1]).await;
    let (status, reply) = second
        .post(
            &format!("/api/v1/cases/{case}/posts"),
            json!({"parent_id": post["id"], "body": "Verhuizen kost ook veel, daar ben ik het mee eens."}),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    (app, t)
}

/// Runs schemathesis with every check against `app`, as the holder of `client`'s
/// session, with the hooks in `schemathesis_hooks.py` (fresh Idempotency-Keys). Left
/// out: logging out and changing the password, which would end that session halfway
/// (see `auth.rs`), and the WebSocket, which is no plain HTTP operation (see
/// `realtime.rs` and the envelope test above). One worker: the run must not measure
/// how SQLite queues concurrent writers on a busy machine.
async fn schemathesis(app: &TestApp, client: &crate::helpers::Client, seed: u64) {
    let tools = Tools::find();
    let dir = tempfile::tempdir().expect("tempdir");
    let cookie = client.session_cookie.clone().expect("session cookie");
    let csrf = client.csrf.clone().expect("csrf token");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/schemathesis.toml");
    let args = vec![
        "--config-file".to_string(),
        config.to_owned(),
        "run".to_string(),
        format!("{}/api/v1/openapi.json", app.base),
        "--url".into(),
        app.base.clone(),
        "--checks".into(),
        "all".into(),
        "--phases".into(),
        "examples,coverage,fuzzing".into(),
        "--max-examples".into(),
        "12".into(),
        "--max-time".into(),
        "100".into(),
        "--seed".into(),
        seed.to_string(),
        "--workers".into(),
        "1".into(),
        "--generation-database".into(),
        "none".into(),
        "--generation-with-security-parameters".into(),
        "false".into(),
        "--exclude-operation-id".into(),
        "endSession".into(),
        "--exclude-operation-id".into(),
        "changePassword".into(),
        "--exclude-operation-id".into(),
        "leavePanel".into(),
        "--exclude-operation-id".into(),
        "runRetention".into(),
        "--exclude-operation-id".into(),
        "openLiveSocket".into(),
        "--no-color".into(),
        "-H".into(),
        format!("Cookie: {cookie}"),
        "-H".into(),
        format!("X-CSRF-Token: {csrf}"),
    ];
    let hooks = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api/schemathesis_hooks.py"
    );
    let env = vec![("SCHEMATHESIS_HOOKS", hooks.to_owned())];
    let (ok, out) = tools
        .run("schemathesis.cli", args, env, dir.path().to_owned())
        .await;
    assert!(ok, "schemathesis found failures:\n{out}");
    // With --nocapture: what was run and what it warns about.
    println!("{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_as_a_panelist() {
    let (app, t) = seeded().await;
    let panelist = app.panelist(&t.codes[2]).await;
    schemathesis(&app, &panelist, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_as_an_admin() {
    let (app, t) = seeded().await;
    let admin = app.staff(&t.admin).await;
    schemathesis(&app, &admin, 2).await;
}
