//! TODO-FREE STUB: the dashboard pages (filled in next).

use axum::Router;

use crate::http::AppState;

/// The dashboard routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
