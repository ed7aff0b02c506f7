//! The fallback for kernels without `mount_setattr` (before 5.12): bubblewrap's
//! way of giving a recursive bind its flags, by remounting every submount
//! listed in the mount table.
//!
//! It reads the whole table once per bind, so a plan of N binds costs O(N²);
//! that is why it is only the fallback. It runs in the sandbox child, so the
//! table goes into anonymous memory from `mmap`, never the allocator, and paths
//! are unescaped into a stack buffer.

use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::MountFlags;

/// Anonymous memory holding a file's content.
struct Scratch {
    ptr: *mut u8,
    cap: usize,
    len: usize,
}

impl Scratch {
    // Raw system calls through rustix, not the C library's wrappers: musl's
    // `munmap` and `mremap` wait on a lock of its own, which another thread
    // of the launcher may have held when this child was cloned.
    fn with_capacity(cap: usize) -> Result<Self, Errno> {
        // SAFETY: a fresh private anonymous mapping; no existing memory is
        // touched.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                cap,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::PRIVATE,
            )
        }?;
        Ok(Self {
            ptr: ptr.cast(),
            cap,
            len: 0,
        })
    }

    fn grow(&mut self) -> Result<(), Errno> {
        let new_cap = self.cap.saturating_mul(2);
        // SAFETY: `ptr`/`cap` describe the live mapping created above;
        // MREMAP_MAYMOVE lets the kernel relocate it, and the new address
        // replaces the old one before any further use.
        let ptr = unsafe {
            rustix::mm::mremap(
                self.ptr.cast(),
                self.cap,
                new_cap,
                rustix::mm::MremapFlags::MAYMOVE,
            )
        }?;
        self.ptr = ptr.cast();
        self.cap = new_cap;
        Ok(())
    }

    fn read_to_end(fd: &OwnedFd) -> Result<Self, Errno> {
        let mut buf = Self::with_capacity(64 * 1024)?;
        loop {
            if buf.len == buf.cap {
                buf.grow()?;
            }
            // SAFETY: the range `len..cap` lies inside the mapping and is not
            // aliased by any other reference while this slice lives.
            let free =
                unsafe { std::slice::from_raw_parts_mut(buf.ptr.add(buf.len), buf.cap - buf.len) };
            match rustix::io::read(fd.as_fd(), free) {
                Ok(0) => return Ok(buf),
                Ok(n) => buf.len += n,
                Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the first `len` bytes of the mapping were written by read(2).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping this value owns, once.
        let _ = unsafe { rustix::mm::munmap(self.ptr.cast(), self.cap) };
    }
}

/// Decode mountinfo's octal escapes (`\040` for a space...) into `out`; the
/// length, or `None` when it does not fit (leaving room for a NUL).
fn unescape(field: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut len = 0;
    let mut i = 0;
    while i < field.len() {
        let byte = match (field.get(i), field.get(i + 1..i + 4)) {
            (Some(b'\\'), Some(digits)) if digits.iter().all(|d| (b'0'..=b'7').contains(d)) => {
                i += 4;
                digits
                    .iter()
                    .fold(0u8, |acc, d| acc.wrapping_mul(8).wrapping_add(d - b'0'))
            }
            (Some(b), _) => {
                i += 1;
                *b
            }
            (None, _) => break,
        };
        if len + 1 >= out.len() {
            return None;
        }
        out[len] = byte;
        len += 1;
    }
    Some(len)
}

/// The per-mount flags named in mountinfo's options field.
fn option_flags(options: &[u8]) -> MountFlags {
    let mut flags = MountFlags::empty();
    for option in options.split(|b| *b == b',') {
        flags |= match option {
            b"ro" => MountFlags::RDONLY,
            b"nosuid" => MountFlags::NOSUID,
            b"nodev" => MountFlags::NODEV,
            b"noexec" => MountFlags::NOEXEC,
            b"noatime" => MountFlags::NOATIME,
            b"nodiratime" => MountFlags::NODIRATIME,
            b"relatime" => MountFlags::RELATIME,
            _ => MountFlags::empty(),
        };
    }
    flags
}

/// Whether `path` lies strictly below `dir`.
fn strictly_below(path: &[u8], dir: &[u8]) -> bool {
    let dir = if dir.len() > 1 {
        dir.strip_suffix(b"/").unwrap_or(dir)
    } else {
        dir
    };
    if dir == b"/" {
        return path.len() > 1 && path.starts_with(b"/");
    }
    path.len() > dir.len() && path.starts_with(dir) && path.get(dir.len()) == Some(&b'/')
}

/// Remount every mount strictly below the mount `target` (a `/proc/self/fd`
/// link to its root) is, as `mountinfo` lists them, with its current flags
/// plus `add`. A mount that cannot be accessed is skipped, as bubblewrap
/// does: the sandbox cannot reach it either.
///
/// The mount's path comes from the descriptor (the kernel's name for it, in
/// the same terms as `mountinfo`), not from the destination as written: a
/// destination resolved inside the new root through a symlink is elsewhere.
pub(crate) fn remount_submounts(
    mountinfo: &CStr,
    target: &CStr,
    add: MountFlags,
) -> Result<(), Errno> {
    let mut top = [0u8; 4097];
    let top_len = rustix::fs::readlinkat_raw(rustix::fs::CWD, target, &mut top[..])?;
    if top_len >= top.len() {
        return Err(Errno::NAMETOOLONG);
    }
    let top = top.get(..top_len).unwrap_or_default();
    let fd = rustix::fs::open(mountinfo, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let table = Scratch::read_to_end(&fd)?;
    let mut path = [0u8; 4097];
    for line in table.bytes().split(|b| *b == b'\n') {
        let mut fields = line.split(|b| *b == b' ');
        let (Some(mountpoint), Some(options)) = (fields.nth(4), fields.next()) else {
            continue;
        };
        let Some(len) = unescape(mountpoint, &mut path) else {
            continue;
        };
        if !strictly_below(&path[..len], top) {
            continue;
        }
        let current = option_flags(options);
        if current.contains(add) {
            continue;
        }
        path[len] = 0;
        let Ok(c_path) = CStr::from_bytes_with_nul(&path[..=len]) else {
            continue;
        };
        match rustix::mount::mount_remount(c_path, current | add | MountFlags::BIND, c"") {
            Ok(()) | Err(Errno::ACCESS) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::disallowed_types,
    clippy::disallowed_macros,
    reason = "tests run in the test harness, not in a cloned child"
)]
mod tests {
    use super::*;

    #[test]
    fn octal_escapes_are_decoded() {
        let mut out = [0u8; 32];
        let n = unescape(br"/a\040b\134c", &mut out).unwrap();
        assert_eq!(&out[..n], b"/a b\\c");
        let mut small = [0u8; 3];
        assert_eq!(unescape(b"/abc", &mut small), None);
    }

    #[test]
    fn only_mounts_strictly_below_match() {
        assert!(strictly_below(b"/newroot/a/b", b"/newroot/a"));
        assert!(strictly_below(b"/newroot/a/b", b"/newroot/a/"));
        assert!(!strictly_below(b"/newroot/a", b"/newroot/a"));
        assert!(!strictly_below(b"/newroot/ab", b"/newroot/a"));
        assert!(strictly_below(b"/x", b"/"));
        assert!(!strictly_below(b"/", b"/"));
    }

    #[test]
    fn options_map_to_mount_flags() {
        assert_eq!(
            option_flags(b"ro,nosuid,nodev,relatime"),
            MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV | MountFlags::RELATIME
        );
        assert_eq!(option_flags(b"rw"), MountFlags::empty());
    }

    #[test]
    fn scratch_reads_a_file_larger_than_its_first_mapping() {
        let dir = std::env::temp_dir().join(format!("vb-fs-scratch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("big");
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        std::fs::write(&file, &data).unwrap();
        let fd = rustix::fs::open(&file, OFlags::RDONLY, Mode::empty()).unwrap();
        let scratch = Scratch::read_to_end(&fd).unwrap();
        assert_eq!(scratch.bytes(), &data[..]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
