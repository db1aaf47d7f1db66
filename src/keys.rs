//! Keys as data: what a key is (`KeySpec`, parsed from the config's `keys:`
//! section as `ctrl-p`, `R`, `f5`, `shift-tab`), the commands a key can ask
//! for, and the one binding table that dispatch, the `?` help, the footer
//! hints and the command palette all read. Core: no terminal library here
//! (the app turns a terminal key event into a `KeySpec`).

pub mod bindings;
pub mod command;
pub mod spec;

pub use bindings::{Binding, Bindings, Context};
pub use command::{ActionKind, Command};
pub use spec::{Key, KeySpec};
