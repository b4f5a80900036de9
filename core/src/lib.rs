//! Passerelle's core: the domain, the rules, the ports and the store.
//! It knows nothing of actix or wasmtime (CI checks it with `cargo tree -i`).

pub mod audit;
pub mod closing;
pub mod crypto;
pub mod data;
pub mod deadlines;
pub mod domain;
pub mod erasure;
pub mod follow_up;
pub mod funding;
pub mod identification;
pub mod keys;
pub mod notify;
pub mod ports;
pub mod returns;
pub mod service;
pub mod store;
pub mod trial;
pub mod two_factor;

pub use service::{Actor, ServiceError, Services};
