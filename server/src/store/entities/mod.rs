//! sea-orm entities, one per table. Only the store layer uses them; services get plain
//! models back and never build queries themselves.

pub mod audit_entry;
pub mod case;
pub mod case_erratum;
pub mod case_event;
pub mod case_name;
pub mod case_panel;
pub mod case_visit;
pub mod draw;
pub mod draw_member;
pub mod flag;
pub mod idempotency_key;
pub mod invitation;
pub mod invitation_batch;
pub mod moderation_action;
pub mod municipality;
pub mod notification_contact;
pub mod notification_outbox;
pub mod panel;
pub mod panelist;
pub mod population_figure;
pub mod post;
pub mod post_revision;
pub mod report_quote;
pub mod retention_policy;
pub mod retention_run;
pub mod session;
pub mod signing_key;
pub mod staff_invitation;
pub mod staff_role;
pub mod staff_user;
pub mod weighing;
