//! The command's execution plan: argv, envp, the working directory and the
//! candidate paths of the executable, all built in the parent so the child only
//! makes system calls.
//!
//! The path search is `execvp(3)`'s, computed ahead of time: the child tries each
//! candidate in order, skipping the errors `execvp` skips, remembering `EACCES`,
//! and running a script without a `#!` line through `/bin/sh` on `ENOEXEC`.

use std::cell::Cell;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::env::lookup;

/// `confstr(_CS_PATH)` on glibc: what `execvp` searches when `PATH` is unset.
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";
/// The shell `execvp` runs a script without a `#!` line with.
pub(crate) const SHELL: &CStr = c"/bin/sh";

/// A command that cannot be turned into an execution plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The argument vector is empty.
    #[error("no command given")]
    NoCommand,
    /// An argument, variable or path contains a NUL byte.
    #[error("{what} contains a NUL byte: {value:?}")]
    Nul {
        /// What contained the NUL.
        what: &'static str,
        /// The offending value.
        value: OsString,
    },
}

fn cstring(what: &'static str, value: &OsStr) -> Result<CString, ExecError> {
    CString::new(value.as_bytes()).map_err(|_| ExecError::Nul {
        what,
        value: value.to_os_string(),
    })
}

/// A null-terminated pointer array whose slots the child may rewrite without
/// allocating. `Cell<*const c_char>` has the layout of `*const c_char`.
type PtrArray = Box<[Cell<*const libc::c_char>]>;

fn ptr_array(items: &[&CStr], extra_slots: usize) -> PtrArray {
    items
        .iter()
        .map(|s| Cell::new(s.as_ptr()))
        .chain(std::iter::repeat_with(|| Cell::new(std::ptr::null())).take(extra_slots + 1))
        .collect()
}

/// Where the child changes directory to, in order of preference.
#[derive(Debug)]
pub(crate) struct CwdCandidate {
    /// The directory.
    pub(crate) dir: CString,
    /// `PWD=<dir>`, for the environment's reserved slot.
    pub(crate) pwd_entry: CString,
}

/// Everything the child needs to change directory and execute the command.
#[derive(Debug)]
pub struct ExecPlan {
    display: String,
    _argv_storage: Vec<CString>,
    _env_storage: Vec<CString>,
    /// argv, null-terminated.
    pub(crate) argv: PtrArray,
    /// envp, null-terminated, with a free slot for `PWD=` at `pwd_slot`.
    pub(crate) envp: PtrArray,
    pub(crate) pwd_slot: usize,
    /// The paths to try, in order.
    pub(crate) candidates: Vec<CString>,
    /// `/bin/sh`, the script (filled in by the child), argv\[1..\].
    pub(crate) sh_argv: PtrArray,
    /// The working directories to try, in order.
    pub(crate) cwd: Vec<CwdCandidate>,
    pub(crate) chdir_is_explicit: bool,
}

impl ExecPlan {
    /// Build the plan.
    ///
    /// * `command` is argv (argv\[0\] is also the program looked up in `PATH`);
    /// * `argv0` replaces argv\[0\] as the program sees it;
    /// * `env` is the final sandbox environment (its `PATH` and `HOME` are used);
    /// * `chdir` is an explicit directory; without one the child tries
    ///   `old_cwd`, then `$HOME`, then `/`, as bubblewrap does. `PWD` is set to
    ///   the directory entered.
    pub fn new(
        command: &[OsString],
        argv0: Option<&OsStr>,
        env: &[(OsString, OsString)],
        chdir: Option<&Path>,
        old_cwd: Option<&Path>,
    ) -> Result<Self, ExecError> {
        let program = command.first().ok_or(ExecError::NoCommand)?;
        let display = program.to_string_lossy().into_owned();

        let mut argv_storage = Vec::with_capacity(command.len());
        argv_storage.push(cstring("argv0", argv0.unwrap_or(program))?);
        for arg in command.iter().skip(1) {
            argv_storage.push(cstring("argument", arg)?);
        }

        let mut env_storage = Vec::with_capacity(env.len() + 1);
        for (key, value) in env.iter().filter(|(k, _)| k.as_bytes() != b"PWD") {
            let mut entry = key.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_bytes());
            env_storage.push(cstring("environment variable", OsStr::from_bytes(&entry))?);
        }

        let candidates = search_candidates(program, lookup(env, "PATH"))?;

        let cwd = cwd_candidates(chdir, old_cwd, lookup(env, "HOME"))?;

        let argv_refs: Vec<&CStr> = argv_storage.iter().map(CString::as_c_str).collect();
        let env_refs: Vec<&CStr> = env_storage.iter().map(CString::as_c_str).collect();
        // /bin/sh, <script slot>, argv[1..]
        let mut sh_refs: Vec<&CStr> = vec![SHELL, SHELL];
        sh_refs.extend(argv_refs.iter().skip(1).copied());
        Ok(Self {
            display,
            argv: ptr_array(&argv_refs, 0),
            pwd_slot: env_refs.len(),
            envp: ptr_array(&env_refs, 1),
            sh_argv: ptr_array(&sh_refs, 0),
            _argv_storage: argv_storage,
            _env_storage: env_storage,
            candidates,
            cwd,
            chdir_is_explicit: chdir.is_some(),
        })
    }

    /// The command as given, for messages (`execvp <command>: ...`).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The candidate paths the child will try, in order.
    pub fn candidates(&self) -> impl Iterator<Item = &CStr> {
        self.candidates.iter().map(CString::as_c_str)
    }

    /// The directory an explicit `chdir` names, if any (for messages).
    pub fn explicit_chdir(&self) -> Option<&CStr> {
        self.cwd
            .first()
            .filter(|_| self.chdir_is_explicit)
            .map(|c| c.dir.as_c_str())
    }
}

/// The paths `execvp` would try for `program` with the given `PATH`.
fn search_candidates(program: &OsStr, path: Option<&OsStr>) -> Result<Vec<CString>, ExecError> {
    let bytes = program.as_bytes();
    if bytes.contains(&b'/') {
        return Ok(vec![cstring("command", program)?]);
    }
    if bytes.is_empty() {
        // execvp("") fails with ENOENT; an empty candidate list reports that.
        return Ok(Vec::new());
    }
    let path = path.map_or(DEFAULT_PATH, OsStrExt::as_bytes);
    path.split(|&b| b == b':')
        .map(|dir| {
            let mut full = if dir.is_empty() {
                b".".to_vec()
            } else {
                dir.to_vec()
            };
            full.push(b'/');
            full.extend_from_slice(bytes);
            cstring("command", &OsString::from_vec(full))
        })
        .collect()
}

fn cwd_candidates(
    chdir: Option<&Path>,
    old_cwd: Option<&Path>,
    home: Option<&OsStr>,
) -> Result<Vec<CwdCandidate>, ExecError> {
    let dirs: Vec<PathBuf> = match chdir {
        Some(dir) => vec![dir.to_path_buf()],
        None => old_cwd
            .map(Path::to_path_buf)
            .into_iter()
            .chain(home.map(PathBuf::from))
            .chain(std::iter::once(PathBuf::from("/")))
            .collect(),
    };
    dirs.into_iter()
        .map(|dir| {
            let mut entry = b"PWD=".to_vec();
            entry.extend_from_slice(dir.as_os_str().as_bytes());
            Ok(CwdCandidate {
                dir: cstring("directory", dir.as_os_str())?,
                pwd_entry: cstring("directory", OsStr::from_bytes(&entry))?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> OsString {
        s.into()
    }

    #[test]
    fn path_search_follows_execvp() {
        let c = search_candidates(OsStr::new("ls"), Some(OsStr::new("/a::/b"))).unwrap();
        assert_eq!(
            c,
            vec![c"/a/ls".to_owned(), c"./ls".to_owned(), c"/b/ls".to_owned()]
        );
        let c = search_candidates(OsStr::new("ls"), None).unwrap();
        assert_eq!(c, vec![c"/bin/ls".to_owned(), c"/usr/bin/ls".to_owned()]);
        let c = search_candidates(OsStr::new("./x"), Some(OsStr::new("/a"))).unwrap();
        assert_eq!(c, vec![c"./x".to_owned()]);
    }

    #[test]
    fn argv0_replaces_only_what_the_program_sees() {
        let plan = ExecPlan::new(
            &[os("echo"), os("hi")],
            Some(OsStr::new("custom")),
            &[(os("PATH"), os("/usr/bin"))],
            None,
            None,
        )
        .unwrap();
        assert_eq!(plan.display(), "echo");
        assert_eq!(
            plan.candidates().collect::<Vec<_>>(),
            vec![c"/usr/bin/echo"]
        );
        // SAFETY: argv[0] points into the plan's own storage.
        let argv0 = unsafe { CStr::from_ptr(plan.argv[0].get()) };
        assert_eq!(argv0, c"custom");
        assert!(plan.argv[2].get().is_null());
    }

    #[test]
    fn default_cwd_order_is_old_cwd_then_home_then_root() {
        let env = vec![(os("HOME"), os("/home/u")), (os("PWD"), os("/stale"))];
        let plan =
            ExecPlan::new(&[os("/bin/true")], None, &env, None, Some(Path::new("/w"))).unwrap();
        let dirs: Vec<&CStr> = plan.cwd.iter().map(|c| c.dir.as_c_str()).collect();
        assert_eq!(dirs, vec![c"/w", c"/home/u", c"/"]);
        assert_eq!(plan.explicit_chdir(), None);
        // The inherited PWD is dropped; the child fills the reserved slot.
        assert_eq!(plan.envp.len(), 3);
        assert!(plan.envp[plan.pwd_slot].get().is_null());
    }

    #[test]
    fn explicit_chdir_is_the_only_candidate() {
        let plan = ExecPlan::new(
            &[os("/bin/true")],
            None,
            &[],
            Some(Path::new("/tmp")),
            Some(Path::new("/w")),
        )
        .unwrap();
        assert_eq!(plan.explicit_chdir(), Some(c"/tmp"));
        assert_eq!(plan.cwd.len(), 1);
    }

    #[test]
    fn nul_bytes_and_empty_commands_are_refused() {
        assert_eq!(
            ExecPlan::new(&[], None, &[], None, None).unwrap_err(),
            ExecError::NoCommand
        );
        let err = ExecPlan::new(&[os("a\0b")], None, &[], None, None).unwrap_err();
        assert!(matches!(err, ExecError::Nul { .. }));
    }
}
