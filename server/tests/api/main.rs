//! API tests through the public door: a real server on a free port over its own
//! database, each scenario once on SQLite and once on PostgreSQL.

mod helpers;

mod faults;

mod accounts;
mod auth;
mod case_text;
mod cases;
mod cli;
mod concurrency;
mod contract;
mod crash;
mod deploy;
mod door;
mod draws;
mod fuzz;
mod idempotency;
mod leaks;
mod letters;
mod matrix;
mod metrics;
mod moderation;
mod multinode;
mod notifications;
mod posts;
mod privacy;
mod profile;
mod proxy;
mod realtime;
mod report;
mod residents;
mod staff_pages;
mod trust;
mod upgrade;
mod visits;
