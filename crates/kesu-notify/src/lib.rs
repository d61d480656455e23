//! Outbound delivery for kesu.
