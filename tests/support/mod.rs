//! Shared support for integration tests that run real components
//! (`mod support;` in a test file).

pub mod litellm;
pub mod process;
pub mod prometheus;
pub mod redis;
