//! Beraad: a deliberation forum engine. Municipalities put anonymised decisions before a
//! panel of residents, who give a verdict with a reason and discuss live; moderators keep
//! it clean; staff watch and analyse.
//!
//! Layers, outermost first: [`cli`] and [`http`] (doors) → [`service`] (every rule) →
//! [`store`] (the database). [`domain`] holds the vocabulary all of them share.

pub mod analysis;
pub mod cli;
pub mod demo;
pub mod domain;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod realtime;
pub mod service;
pub mod store;
pub mod web;
