//! One module a screen, each exporting its component; the shell (`app.rs`) routes to them.

pub mod backup;
pub mod connections;
pub mod fields;
pub mod flow;
pub mod login;
pub mod rules;
pub mod settings;
pub mod system;
