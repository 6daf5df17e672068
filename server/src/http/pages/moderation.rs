//! TODO-FREE STUB: the moderation pages (filled in next).

use axum::Router;

use crate::http::AppState;

/// The moderation routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
