//! Inbound mail for kesu.
