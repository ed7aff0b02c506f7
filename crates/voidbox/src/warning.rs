//! Runtime warnings: what setup could not do as asked, when the
//! configuration lets the sandbox run anyway.

use std::fmt;

use vb_proc::Enforcement;

/// One runtime warning, in the order setup met them: on
/// [`Session::warnings`](crate::Session::warnings), in the
/// `runtime_init_warnings` event, and in
/// [`Error::RuntimeWarnings`](crate::Error::RuntimeWarnings). `Display`
/// gives one sentence; match on the variant to act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A cgroup limit is not enforced (a controller is missing, or the
    /// kernel refused a value).
    Cgroup(vb_cgroup::Warning),
    /// The running kernel enforces less of the Landlock request than asked
    /// (never [`Enforcement::Full`]).
    Landlock(Enforcement),
    /// An SELinux label is ignored because SELinux is not enabled here.
    LabelIgnored {
        /// The configuration field: `security.exec_label` or
        /// `security.file_label`.
        field: &'static str,
        /// The label.
        label: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cgroup(warning) => warning.fmt(f),
            Self::Landlock(enforcement) => enforcement.fmt(f),
            Self::LabelIgnored { field, label } => write!(
                f,
                "{field} {label:?} is ignored: SELinux is not enabled on this host"
            ),
        }
    }
}

impl From<vb_cgroup::Warning> for Warning {
    fn from(warning: vb_cgroup::Warning) -> Self {
        Self::Cgroup(warning)
    }
}

/// The warnings, one sentence each, joined by `"; "`.
pub(crate) fn joined(warnings: &[Warning]) -> String {
    let sentences: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    sentences.join("; ")
}
