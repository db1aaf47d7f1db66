//! Simulated New API server (being written in the `newapi` branch).
