//! The filter and NAT rule tables: RouterOS chains compiled for the packet path.
