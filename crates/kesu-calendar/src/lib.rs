//! Working time for kesu.
