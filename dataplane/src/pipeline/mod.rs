//! RouterOS packet flow.
