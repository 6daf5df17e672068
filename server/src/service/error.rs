//! The service layer's one error type. Every variant carries a stable machine code and a
//! Dutch message a person can read; the HTTP and WebSocket doors map it to their wire
//! form. Internal errors keep their detail for the log and show nothing of it.

use sea_orm::DbErr;

/// What went wrong with a request, as the service sees it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks a rule (HTTP 422).
    #[error("{code}: {message}")]
    Invalid {
        /// Stable code, e.g. `body_too_short`.
        code: &'static str,
        /// Readable explanation.
        message: String,
        /// The fields of the input the error is about, when a client needs them to
        /// point at each (`case_personal_data`); usually empty.
        fields: Vec<&'static str>,
    },
    /// The request is malformed (HTTP 400).
    #[error("{code}: {message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Readable explanation.
        message: String,
    },
    /// No such thing, or not one the actor may know of (HTTP 404).
    #[error("{code}: not found")]
    NotFound {
        /// Stable code, e.g. `case_not_found`.
        code: &'static str,
    },
    /// No valid session (HTTP 401).
    #[error("{code}: unauthenticated")]
    Unauthenticated {
        /// Stable code.
        code: &'static str,
        /// Readable explanation.
        message: String,
    },
    /// The actor may see this but not do that (HTTP 403).
    #[error("{code}: {message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Readable explanation.
        message: String,
    },
    /// The request conflicts with the current state (HTTP 409).
    #[error("{code}: {message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Readable explanation.
        message: String,
    },
    /// Too many attempts; try again after some seconds (HTTP 429).
    #[error("rate limited for {retry_after_secs}s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The database cannot serve now (unreachable, disk full, no connection in time);
    /// nothing was changed and the same request may succeed after `retry_after_secs`
    /// (HTTP 503).
    #[error("store unavailable: {detail}")]
    Unavailable {
        /// Seconds to wait before retrying.
        retry_after_secs: u64,
        /// What the database said, for the log only.
        detail: String,
    },
    /// A failure of ours (HTTP 500); logged once where handled, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// Result of a service call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Input breaks a rule.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Input breaks a rule in the named fields.
    pub fn invalid_fields(
        code: &'static str,
        message: impl Into<String>,
        fields: Vec<&'static str>,
    ) -> Self {
        Error::Invalid {
            code,
            message: message.into(),
            fields,
        }
    }

    /// The fields of the input this error is about (empty for most errors).
    pub fn fields(&self) -> &[&'static str] {
        match self {
            Error::Invalid { fields, .. } => fields,
            _ => &[],
        }
    }

    /// Malformed request.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Error::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// Not there (or not for this actor).
    pub fn not_found(code: &'static str) -> Self {
        Error::NotFound { code }
    }

    /// Not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Error::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// Conflicts with the current state.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }

    /// No session.
    pub fn unauthenticated() -> Self {
        Error::Unauthenticated {
            code: "unauthenticated",
            message: "U bent niet (meer) ingelogd.".into(),
        }
    }

    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. }
            | Error::BadRequest { code, .. }
            | Error::NotFound { code }
            | Error::Unauthenticated { code, .. }
            | Error::Forbidden { code, .. }
            | Error::Conflict { code, .. } => code,
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable { .. } => "store_unavailable",
            Error::Internal(_) => "internal",
        }
    }

    /// The readable message shown to a person.
    pub fn message(&self) -> String {
        match self {
            Error::Invalid { message, .. }
            | Error::BadRequest { message, .. }
            | Error::Unauthenticated { message, .. }
            | Error::Forbidden { message, .. }
            | Error::Conflict { message, .. } => message.clone(),
            Error::NotFound { .. } => "Niet gevonden.".into(),
            Error::RateLimited { retry_after_secs } => {
                format!("Te veel pogingen. Probeer het over {retry_after_secs} seconden opnieuw.")
            }
            Error::Unavailable { .. } => "Beraad kan uw bericht of wijziging nu niet opslaan. \
                Er is niets veranderd; probeer het over enkele seconden opnieuw."
                .into(),
            Error::Internal(_) => "Er ging bij ons iets mis. Probeer het later opnieuw.".into(),
        }
    }
}

/// Seconds a client is asked to wait while the database cannot serve.
pub const UNAVAILABLE_RETRY_SECS: u64 = 2;

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        if crate::store::is_unavailable(&e) {
            Error::Unavailable {
                retry_after_secs: UNAVAILABLE_RETRY_SECS,
                detail: e.to_string(),
            }
        } else {
            Error::Internal(format!("database: {e}"))
        }
    }
}
