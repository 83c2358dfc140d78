//! sarif (in progress).
