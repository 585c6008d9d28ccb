//! Helpers shared by the conformance tests.

mod backend;
mod events;
mod fds;
mod threads;

pub use backend::*;
pub use events::*;
pub use fds::*;
pub use threads::*;
