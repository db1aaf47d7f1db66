//! The failure decision tree (data in `assets/triage.yaml`) and the evidence
//! checks that answer its questions.

pub mod checks;
pub mod evidence;
pub mod load;
pub mod memo;
pub mod model;
pub mod prices;

pub use evidence::{Finding, Verdict};
pub use model::{Tree, TreeNode};
