//! Shared helpers for voidbox's integration suites.
