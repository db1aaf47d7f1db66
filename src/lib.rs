//! gatewatch: an incident TUI for AI API gateways (LiteLLM Proxy, New API).
//!
//! Core modules (`config`, `gateway`, `poller`, `fleet`, `triage`, `actions`)
//! know nothing about the terminal; `app` holds UI state with a pure
//! `update`; `ui` renders it; `tui` runs the event loop.

pub mod actions;
pub mod app;
pub mod changes;
pub mod check;
pub mod cli;
pub mod command;
pub mod config;
pub mod configcache;
pub mod demo;
pub mod fleet;
pub mod gateway;
pub mod keys;
pub mod local;
pub mod logging;
pub mod model;
pub mod poller;
pub mod readlimit;
pub mod report;
pub mod sanitize;
pub mod secret;
pub mod snapshot;
pub mod statefile;
pub mod table;
pub mod timeline;
pub mod traffic;
pub mod triage;
pub mod tui;
pub mod ui;
pub mod yamlpath;
