//! The command's side of an [`ExecPlan`]: enter the working directory and
//! execute, with `execvp(3)`'s search done ahead of time (see
//! [`crate::command`]).

use rustix::io::Errno;

use crate::child::sys::ChildSys;
use crate::command::{ExecPlan, SHELL};

impl ExecPlan {
    /// Child side: enter the working directory and point `PWD` at it.
    ///
    /// An explicit directory that cannot be entered is an error; the fallbacks
    /// are tried silently, the last being `/`.
    pub(crate) fn enter_cwd<S: ChildSys>(&self, sys: &mut S) -> Result<(), Errno> {
        let mut last = Errno::NOENT;
        for candidate in &self.cwd {
            match sys.chdir(candidate.dir.as_c_str()) {
                Ok(()) => {
                    if let Some(slot) = self.envp.get(self.pwd_slot) {
                        slot.set(candidate.pwd_entry.as_ptr());
                    }
                    return Ok(());
                }
                Err(errno) if self.chdir_is_explicit => return Err(errno),
                Err(errno) => last = errno,
            }
        }
        Err(last)
    }

    /// Child side: execute the command. Returns only on failure, with the errno
    /// `execvp` would report.
    pub(crate) fn exec<S: ChildSys>(&self, sys: &mut S) -> Errno {
        let envp = self.envp.as_ptr().cast::<*const libc::c_char>();
        let mut saw_eacces = false;
        let mut last = Errno::NOENT;
        for path in &self.candidates {
            // SAFETY: path, argv and envp are NUL-terminated strings and
            // null-terminated arrays that live as long as `self`.
            let errno = unsafe { sys.execve(path.as_c_str(), self.argv.as_ptr().cast(), envp) };
            match errno {
                Errno::NOEXEC => {
                    if let Some(slot) = self.sh_argv.get(1) {
                        slot.set(path.as_ptr());
                    }
                    // SAFETY: as above; sh_argv is null-terminated.
                    unsafe { sys.execve(SHELL, self.sh_argv.as_ptr().cast(), envp) };
                    return Errno::NOEXEC;
                }
                Errno::ACCESS => {
                    saw_eacces = true;
                    last = errno;
                }
                Errno::NOENT | Errno::NOTDIR | Errno::STALE | Errno::NODEV | Errno::TIMEDOUT => {
                    last = errno;
                }
                other => return other,
            }
        }
        if saw_eacces { Errno::ACCESS } else { last }
    }
}
