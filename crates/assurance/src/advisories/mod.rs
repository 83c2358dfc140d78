//! advisories (in progress).
