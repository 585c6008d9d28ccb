//! Helpers shared by the conformance tests.

mod events;
mod fds;
mod threads;

pub use events::*;
pub use fds::*;
pub use threads::*;
