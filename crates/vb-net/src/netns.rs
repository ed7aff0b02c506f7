//! Network namespaces: naming the sandbox's, and running code inside one.
//!
//! Namespaces are per thread. To act inside a namespace other than the caller's, vb-net
//! starts a short-lived thread that `setns()`es into it and runs one closure there; the
//! calling thread never changes namespace, so nothing else in the embedder's process can
//! observe a switch, and a failure or panic cannot leave a thread stranded in the
//! sandbox's namespace. For netlink the closure only opens the socket: a socket stays in
//! the namespace it was created in, so the caller then uses it from its own thread.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use rustix::thread::{LinkNameSpaceType, ThreadNameSpaceType};

use crate::error::Error;

/// The calling thread's network namespace, as seen through procfs.
const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// The sandbox's network namespace, held open by a descriptor.
///
/// Holding it keeps the namespace alive (the kernel frees a namespace when nothing refers
/// to it), so the veth created into it cannot vanish while setup runs.
#[derive(Debug)]
pub struct SandboxNetns {
    fd: OwnedFd,
}

impl SandboxNetns {
    /// The network namespace of the process `pidfd` refers to (a pidfd from
    /// `clone3(CLONE_PIDFD)` or `pidfd_open`). Needs Linux 5.8 or later.
    ///
    /// # Errors
    /// [`Error::Namespace`] when the namespace cannot be entered (the process is gone, or
    /// the caller lacks `CAP_SYS_ADMIN` over it) or the helper thread cannot start.
    pub fn from_pidfd(pidfd: BorrowedFd<'_>) -> Result<Self, Error> {
        let fd = on_helper_thread(|| {
            rustix::thread::move_into_thread_name_spaces(pidfd, ThreadNameSpaceType::NETWORK)
                .map_err(|errno| Error::Namespace {
                    step: "entering the sandbox's network namespace through its pidfd",
                    source: errno.into(),
                })?;
            open_current()
        })??;
        Ok(Self { fd })
    }

    /// The network namespace of process `pid`, through `/proc/<pid>/ns/net`.
    ///
    /// Prefer [`SandboxNetns::from_pidfd`]: a pid can be reused once its process is
    /// reaped. This is sound while the caller is the process's parent and has not reaped it.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened.
    pub fn from_pid(pid: u32) -> Result<Self, Error> {
        let path = PathBuf::from(format!("/proc/{pid}/ns/net"));
        let file = File::open(&path).map_err(Error::io("opening", &path))?;
        Ok(Self { fd: file.into() })
    }

    /// A namespace descriptor the caller already has (an open `/proc/<pid>/ns/net`, or a
    /// bind-mounted namespace file). It is checked to be a network namespace when used.
    #[must_use]
    pub fn from_fd(fd: OwnedFd) -> Self {
        Self { fd }
    }

    /// The namespace's inode number, which identifies it (as `ip netns identify` does).
    ///
    /// # Errors
    /// [`Error::Namespace`] when `fstat` fails.
    pub fn id(&self) -> Result<u64, Error> {
        namespace_id(self.fd.as_fd())
    }
}

impl AsFd for SandboxNetns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Opens the calling thread's network namespace.
pub(crate) fn open_current() -> Result<OwnedFd, Error> {
    File::open(THREAD_NETNS)
        .map(OwnedFd::from)
        .map_err(Error::io("opening", THREAD_NETNS))
}

/// The inode number of a namespace descriptor.
pub(crate) fn namespace_id(fd: BorrowedFd<'_>) -> Result<u64, Error> {
    rustix::fs::fstat(fd)
        .map(|st| st.st_ino)
        .map_err(|errno| Error::Namespace {
            step: "identifying a network namespace",
            source: errno.into(),
        })
}

/// The inode number of the calling thread's network namespace.
pub(crate) fn current_id() -> Result<u64, Error> {
    std::fs::metadata(THREAD_NETNS)
        .map(|m| m.ino())
        .map_err(Error::io("identifying", THREAD_NETNS))
}

/// Runs `f` on a new thread and returns its result; a panic there is resumed here.
fn on_helper_thread<R: Send>(f: impl FnOnce() -> R + Send) -> Result<R, Error> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("vb-net-netns".into())
            .spawn_scoped(scope, f)
            .map_err(|source| Error::Namespace {
                step: "starting a thread to enter a network namespace",
                source,
            })?;
        match handle.join() {
            Ok(r) => Ok(r),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Runs `f` inside the network namespace `netns`, on a short-lived thread.
///
/// # Errors
/// [`Error::Namespace`] when the thread cannot start or enter the namespace (`EINVAL`
/// for a descriptor that is not a network namespace, `EPERM` without `CAP_SYS_ADMIN`).
pub(crate) fn in_netns<R: Send>(
    netns: BorrowedFd<'_>,
    step: &'static str,
    f: impl FnOnce() -> R + Send,
) -> Result<R, Error> {
    on_helper_thread(|| {
        rustix::thread::move_into_link_name_space(netns, Some(LinkNameSpaceType::Network))
            .map_err(|errno| Error::Namespace {
                step,
                source: errno.into(),
            })?;
        Ok(f())
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_run_inside_the_namespace_and_the_caller_stays_put() {
        let name = "closures_run_inside_the_namespace_and_the_caller_stays_put";
        if !crate::testns::enter_throwaway_netns(name) {
            return;
        }
        let host = current_id().unwrap();
        // A second namespace, made on a thread of its own and held by its descriptor.
        let other = on_helper_thread(|| {
            // SAFETY: CLONE_NEWNET changes only this helper thread's network namespace.
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
                .unwrap();
            open_current().unwrap()
        })
        .unwrap();
        let other = SandboxNetns::from_fd(other);
        let seen = in_netns(other.as_fd(), "test", || current_id().unwrap()).unwrap();
        assert_eq!(seen, other.id().unwrap());
        assert_ne!(seen, host);
        assert_eq!(current_id().unwrap(), host, "the caller did not move");

        // A descriptor of another kind is refused with the step named.
        let not_a_netns = File::open("/proc/thread-self/ns/uts").unwrap();
        let err = in_netns(not_a_netns.as_fd(), "entering the test namespace", || ()).unwrap_err();
        assert!(
            err.to_string().starts_with("entering the test namespace: "),
            "{err}"
        );
    }

    #[test]
    fn pidfd_and_pid_name_the_same_namespace() {
        let name = "pidfd_and_pid_name_the_same_namespace";
        if !crate::testns::enter_throwaway_netns(name) {
            return;
        }
        let pid = std::process::id();
        let pidfd = rustix::process::pidfd_open(
            rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap(),
            rustix::process::PidfdFlags::empty(),
        )
        .unwrap();
        // The process's namespace is the main thread's, not this test thread's.
        let by_pidfd = SandboxNetns::from_pidfd(pidfd.as_fd()).unwrap();
        let by_pid = SandboxNetns::from_pid(pid).unwrap();
        assert_eq!(by_pidfd.id().unwrap(), by_pid.id().unwrap());
        assert_ne!(by_pid.id().unwrap(), current_id().unwrap());
    }
}
