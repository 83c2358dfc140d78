//! Static analysis level 1 (placeholder while secrets land).
