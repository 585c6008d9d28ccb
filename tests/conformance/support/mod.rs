//! Helpers shared by the conformance tests.

mod backend;
pub mod errno;
mod events;
pub mod fd;
mod fds;
mod threads;

pub use backend::*;
pub use events::*;
pub use fds::*;
pub use threads::*;
