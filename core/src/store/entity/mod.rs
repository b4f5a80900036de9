//! sea-orm entities, one module per table. Encrypted columns end in `_enc` and hold
//! `crypto` blobs; nothing in clear here is personal data of a protected person.

pub mod audit_head;
pub mod audit_log;
pub mod case;
pub mod case_elements;
pub mod case_service;
pub mod citizenship_request;
pub mod consent;
pub mod deadline;
pub mod fund;
pub mod fund_entry;
pub mod fund_opening;
pub mod hearing;
pub mod instance_meta;
pub mod interview;
pub mod itinerary_leg;
pub mod login_throttle;
pub mod measure_request;
pub mod organisation;
pub mod person;
pub mod placement;
pub mod planned_departure;
pub mod proceeding;
pub mod ref_counter;
pub mod referral;
pub mod return_case;
pub mod return_check;
pub mod return_estimate;
pub mod return_stage;
pub mod risk_assessment;
pub mod session;
pub mod share;
pub mod smuggling_decision;
pub mod trafficking_decision;
pub mod travel_document;
pub mod user;
