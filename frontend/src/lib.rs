//! The statewall dashboard. The Leptos app arrives with the dashboard issue; until then this crate
//! only checks that the browser side can use the shared types.

pub use shared::duration::Duration as RosDuration;
