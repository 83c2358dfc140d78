//! SARIF parsing tests (fixtures pending).
