//! Presentation shared by the web pages: translations, charts and small view helpers.
//! Nothing here reads the database or knows about HTTP; the page handlers in
//! [`crate::http::pages`] feed it data from the service layer.

pub mod charts;
pub mod i18n;
pub mod letters;
pub mod mail;
pub mod view;
