//! sbom (in progress).
