//! sca (in progress).
