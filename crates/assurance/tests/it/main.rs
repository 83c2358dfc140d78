//! Integration tests of the assurance crate on real fixtures.
