//! sea-orm entities, one module per table. Encrypted columns end in `_enc` and hold
//! `crypto` blobs; nothing in clear here is personal data of a protected person.

pub mod audit_head;
pub mod audit_log;
pub mod case;
pub mod consent;
pub mod instance_meta;
pub mod login_throttle;
pub mod organisation;
pub mod person;
pub mod ref_counter;
pub mod session;
pub mod share;
pub mod user;
