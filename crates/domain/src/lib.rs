//! The pure rules of apoyo: credential identifiers (MRZ, clave de elector, CURP),
//! the checks a field collector runs before sending a support, and their report.
//!
//! No I/O, no async, no framework types: everything else in the workspace depends
//! on this crate and it depends on nothing of the project.

pub mod access;
pub mod catalog;
pub mod check;
pub mod clave;
pub mod credential;
pub mod curp;
pub mod date;
pub mod mrz;
pub mod names;
pub mod outcome;
pub mod review;
pub mod roll;
pub mod threshold;
pub mod verification;

pub use catalog::{CredentialModel, Sex};
pub use check::{Check, CheckCode, Checks, Severity};
pub use credential::{
    CredentialInput, CredentialReport, ReportFields, check_credential, check_mrz_text,
};
pub use date::Date;
