//! A failed sub-step as the child holds it until it reports it, and the
//! adapters that turn an errno into one.

use rustix::io::Errno;

use crate::failure::{BindStep, Fail};

/// A failed sub-step inside the child: the step code and the errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) code: u32,
    pub(crate) errno: Errno,
}

impl Fault {
    pub(crate) fn new(kind: Fail, sub: u16, errno: Errno) -> Self {
        Self {
            code: kind.code(sub),
            errno,
        }
    }
}

/// `map_err` adapter: `result.map_err(at(Fail::MkdirDest))`.
pub(crate) fn at(kind: Fail) -> impl Fn(Errno) -> Fault {
    move |errno| Fault::new(kind, 0, errno)
}

/// `map_err` adapter with a sub-index.
pub(crate) fn at_sub(kind: Fail, sub: u16) -> impl Fn(Errno) -> Fault {
    move |errno| Fault::new(kind, sub, errno)
}

/// The fault for a failed bind step. A top-level bind reports the step as
/// its own kind; a bind that is a sub-step of another action (a device node,
/// a covered `/proc` entry) keeps its kind and carries the step in the high
/// byte of the sub-index.
pub(crate) fn bind_fault(kind: Fail, sub: u16) -> impl Fn((BindStep, Errno)) -> Fault {
    move |(step, errno)| match kind {
        Fail::BindMount => Fault::new(step.kind(), 0, errno),
        other => Fault::new(other, step.in_sub(sub), errno),
    }
}
