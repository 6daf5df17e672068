//! The HTTP layer's error: a status and a stable `{"error":{"code","message"}}` body.
//! Service errors map here once; 5xx details go to the log, never to the client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::Error;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<String>,
    retry_after: Option<u64>,
}

/// The JSON body of every error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `body_too_short`.
    pub code: String,
    /// Readable explanation (Dutch).
    pub message: String,
    /// The fields of the request the error is about, when there are several to point
    /// at (e.g. `case_personal_data`); absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// 404 for an unknown route or resource.
    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Niet gevonden.")
    }

    /// 413 for a body over the limit.
    pub fn payload_too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Het verzoek is te groot.",
        )
    }

    /// 405 for a method the route does not have (the caller keeps the `Allow` header).
    pub fn method_not_allowed() -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Deze methode kan hier niet; de kopregel Allow noemt de methodes die wel kunnen.",
        )
    }

    /// `422 invalid_body` or `400 invalid_query` for input serde refused, naming the
    /// field in `fields` and in a Dutch message (serde's own text is English and is
    /// never passed on). `path` is where the deserializer stood (`.`-separated, empty
    /// at the top); `error` serde's message, read only to tell a missing or unknown
    /// field (whose name it holds) from a wrong value.
    pub fn unreadable(status: StatusCode, code: &'static str, path: &str, error: &str) -> Self {
        let named = |prefix: &str| {
            error
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('`').nth(1))
                .map(str::to_owned)
        };
        let join = |field: String| {
            if path.is_empty() || path == "." {
                field
            } else {
                format!("{path}.{field}")
            }
        };
        let (field, what) = if let Some(f) = named("missing field") {
            (join(f), "ontbreekt")
        } else if let Some(f) = named("unknown field") {
            // The path already ends at the unknown field.
            let field = if path.is_empty() || path == "." {
                f
            } else {
                path.to_owned()
            };
            (field, "bestaat hier niet")
        } else {
            (path.to_owned(), "heeft een waarde van de verkeerde soort")
        };
        let field = if field.is_empty() || field == "." {
            String::new()
        } else {
            field
        };
        let place = if status == StatusCode::BAD_REQUEST {
            "De zoekparameter"
        } else {
            "Het veld"
        };
        let message = if field.is_empty() {
            "Het verzoek heeft niet de vorm die deze route verwacht.".to_owned()
        } else {
            format!("{place} '{field}' {what}.")
        };
        let mut e = ApiError::new(status, code, message);
        if !field.is_empty() {
            e.fields = vec![field];
        }
        e
    }

    /// The same error telling the client to retry after `secs` seconds (`Retry-After`).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The status of this error.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                fields: self.fields.clone(),
            },
        }
    }

    /// The seconds of `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// The HTTP status of a service error (for the JSON API and the pages alike).
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        Error::Forbidden { .. } => StatusCode::FORBIDDEN,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = status_of(&e);
        match &e {
            Error::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            Error::Unavailable { detail, .. } => {
                tracing::warn!(error = %detail, "database unavailable; answered 503")
            }
            _ => {}
        }
        ApiError {
            status,
            code: e.code(),
            message: e.message(),
            fields: e.fields().iter().map(|f| (*f).to_owned()).collect(),
            retry_after: match e {
                Error::RateLimited { retry_after_secs }
                | Error::Unavailable {
                    retry_after_secs, ..
                } => Some(retry_after_secs),
                _ => None,
            },
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Stuur JSON met Content-Type: application/json.",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "Het verzoek mist een veld of heeft een veld van de verkeerde soort.",
            ),
            _ => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "Het verzoek is geen geldige JSON.",
            ),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Niet gevonden.")
    }
}

impl From<QueryRejection> for ApiError {
    fn from(_: QueryRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "De zoekparameters hebben niet de vorm die deze route verwacht.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
