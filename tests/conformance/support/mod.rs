//! Helpers shared by the conformance tests.

pub mod errno;
mod events;
pub mod fd;
mod fds;
mod threads;

pub use events::*;
pub use fds::*;
pub use threads::*;
