//! TODO-FREE STUB: the staff pages (filled in next).

use axum::Router;

use crate::http::AppState;

/// The staff routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
