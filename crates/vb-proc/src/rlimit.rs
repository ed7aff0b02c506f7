//! Resource limits (`setrlimit`) for the command, prepared in the parent and
//! set in the child just before the rest of its security context.

use std::fmt;
use std::str::FromStr;

use rustix::process::Resource;

/// A resource `setrlimit` limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RlimitResource {
    /// Open descriptors (`RLIMIT_NOFILE`).
    Nofile,
    /// Processes of the real uid (`RLIMIT_NPROC`).
    Nproc,
    /// Address space in bytes (`RLIMIT_AS`).
    As,
    /// Core file size in bytes (`RLIMIT_CORE`).
    Core,
    /// CPU time in seconds (`RLIMIT_CPU`).
    Cpu,
    /// File size in bytes (`RLIMIT_FSIZE`).
    Fsize,
    /// Locked memory in bytes (`RLIMIT_MEMLOCK`).
    Memlock,
    /// Stack size in bytes (`RLIMIT_STACK`).
    Stack,
    /// Data segment size in bytes (`RLIMIT_DATA`).
    Data,
    /// POSIX message queue bytes (`RLIMIT_MSGQUEUE`).
    Msgqueue,
    /// Ceiling of the nice value (`RLIMIT_NICE`).
    Nice,
    /// Ceiling of the real-time priority (`RLIMIT_RTPRIO`).
    Rtprio,
    /// Queued signals (`RLIMIT_SIGPENDING`).
    Sigpending,
}

impl RlimitResource {
    /// Every resource, with its name.
    pub const ALL: [(Self, &'static str); 13] = [
        (Self::Nofile, "nofile"),
        (Self::Nproc, "nproc"),
        (Self::As, "as"),
        (Self::Core, "core"),
        (Self::Cpu, "cpu"),
        (Self::Fsize, "fsize"),
        (Self::Memlock, "memlock"),
        (Self::Stack, "stack"),
        (Self::Data, "data"),
        (Self::Msgqueue, "msgqueue"),
        (Self::Nice, "nice"),
        (Self::Rtprio, "rtprio"),
        (Self::Sigpending, "sigpending"),
    ];

    /// rustix's name for the resource.
    pub(crate) fn resource(self) -> Resource {
        match self {
            Self::Nofile => Resource::Nofile,
            Self::Nproc => Resource::Nproc,
            Self::As => Resource::As,
            Self::Core => Resource::Core,
            Self::Cpu => Resource::Cpu,
            Self::Fsize => Resource::Fsize,
            Self::Memlock => Resource::Memlock,
            Self::Stack => Resource::Stack,
            Self::Data => Resource::Data,
            Self::Msgqueue => Resource::Msgqueue,
            Self::Nice => Resource::Nice,
            Self::Rtprio => Resource::Rtprio,
            Self::Sigpending => Resource::Sigpending,
        }
    }

    /// Its position in [`ALL`](Self::ALL): the index of a failure report.
    pub fn index(self) -> u32 {
        (0u32..)
            .zip(Self::ALL)
            .find_map(|(i, (r, _))| (r == self).then_some(i))
            .unwrap_or(u32::MAX)
    }

    /// The resource a failure's index names.
    pub fn from_index(index: u32) -> Option<Self> {
        usize::try_from(index)
            .ok()
            .and_then(|i| Self::ALL.get(i))
            .map(|(r, _)| *r)
    }
}

impl fmt::Display for RlimitResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Self::ALL
            .iter()
            .find_map(|(r, n)| (r == self).then_some(*n))
            .unwrap_or("?");
        f.write_str(name)
    }
}

/// A limit to set: soft and hard values, `None` for unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rlimit {
    /// The resource.
    pub resource: RlimitResource,
    /// The soft limit (the one enforced).
    pub soft: Option<u64>,
    /// The hard limit (the ceiling the soft one may be raised to).
    pub hard: Option<u64>,
}

/// A resource limit that does not parse or does not hold together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RlimitError {
    /// No resource of that name.
    #[error(
        "unknown resource {0:?}; expected one of nofile, nproc, as, core, cpu, fsize, memlock, stack, data, msgqueue, nice, rtprio, sigpending"
    )]
    UnknownResource(String),
    /// Not `NAME=SOFT[:HARD]` with numbers or `unlimited`.
    #[error("{0:?} is not NAME=SOFT[:HARD] (numbers or unlimited)")]
    Syntax(String),
    /// The soft limit is above the hard one.
    #[error("the soft limit of {0} is above its hard limit")]
    SoftAboveHard(RlimitResource),
}

impl FromStr for RlimitResource {
    type Err = RlimitError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .find_map(|(r, n)| (*n == name).then_some(*r))
            .ok_or_else(|| RlimitError::UnknownResource(name.to_owned()))
    }
}

fn value(text: &str) -> Option<Option<u64>> {
    if text == "unlimited" || text == "infinity" {
        Some(None)
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok().map(Some)
    } else {
        None
    }
}

impl Rlimit {
    /// A limit checked to hold together (soft at most hard).
    pub fn new(
        resource: RlimitResource,
        soft: Option<u64>,
        hard: Option<u64>,
    ) -> Result<Self, RlimitError> {
        match (soft, hard) {
            (None, Some(_)) => return Err(RlimitError::SoftAboveHard(resource)),
            (Some(s), Some(h)) if s > h => return Err(RlimitError::SoftAboveHard(resource)),
            _ => {}
        }
        Ok(Self {
            resource,
            soft,
            hard,
        })
    }

    /// `NAME=SOFT[:HARD]` (`nofile=1024:4096`, `core=0`, `as=unlimited`);
    /// one value sets both limits, as `prlimit(1)` does.
    pub fn parse(text: &str) -> Result<Self, RlimitError> {
        let syntax = || RlimitError::Syntax(text.to_owned());
        let (name, values) = text.split_once('=').ok_or_else(syntax)?;
        let resource: RlimitResource = name.parse()?;
        let (soft, hard) = match values.split_once(':') {
            Some((soft, hard)) => (
                value(soft).ok_or_else(syntax)?,
                value(hard).ok_or_else(syntax)?,
            ),
            None => {
                let both = value(values).ok_or_else(syntax)?;
                (both, both)
            }
        };
        Self::new(resource, soft, hard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_as_prlimit_writes_them() {
        assert_eq!(
            Rlimit::parse("nofile=1024:4096").unwrap(),
            Rlimit {
                resource: RlimitResource::Nofile,
                soft: Some(1024),
                hard: Some(4096)
            }
        );
        let core = Rlimit::parse("core=0").unwrap();
        assert_eq!((core.soft, core.hard), (Some(0), Some(0)));
        let as_ = Rlimit::parse("as=unlimited").unwrap();
        assert_eq!((as_.soft, as_.hard), (None, None));
        let mixed = Rlimit::parse("stack=8388608:unlimited").unwrap();
        assert_eq!((mixed.soft, mixed.hard), (Some(8_388_608), None));
    }

    #[test]
    fn bad_limits_say_what_is_wrong() {
        assert!(matches!(
            Rlimit::parse("files=1"),
            Err(RlimitError::UnknownResource(_))
        ));
        for bad in ["nofile", "nofile=", "nofile=-1", "nofile=1:x", "nofile=1k"] {
            assert!(
                matches!(Rlimit::parse(bad), Err(RlimitError::Syntax(_))),
                "{bad}"
            );
        }
        assert_eq!(
            Rlimit::parse("nofile=10:5"),
            Err(RlimitError::SoftAboveHard(RlimitResource::Nofile))
        );
        assert_eq!(
            Rlimit::parse("nofile=unlimited:5"),
            Err(RlimitError::SoftAboveHard(RlimitResource::Nofile))
        );
    }

    #[test]
    fn indexes_round_trip() {
        for (r, name) in RlimitResource::ALL {
            assert_eq!(RlimitResource::from_index(r.index()), Some(r));
            assert_eq!(r.to_string(), name);
            assert_eq!(name.parse::<RlimitResource>(), Ok(r));
        }
    }
}
