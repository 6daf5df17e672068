//! Analysis core: pure functions over plain data that turn verdicts, reasons and
//! weighings into what staff and panelists see — shares with confidence intervals,
//! small-group suppression, frequent terms and opinion groups (after Pol.is).
//!
//! Nothing here touches the database, the web or the clock: the service layer reads the
//! data, calls these functions and renders the result. Every function is deterministic:
//! the same input gives the same output, bit for bit (random choices use a fixed seed).

#![warn(missing_docs)]

pub mod opinion;
pub mod stats;
pub mod terms;
