//! lockfiles (in progress).
