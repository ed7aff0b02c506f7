//! The facade's side of vb-net. With a new network namespace, the sandbox's
//! `lo` is brought up with 127.0.0.1/8 from inside the child, as bubblewrap
//! does, with request bytes prepared before the clone. With
//! [`NetworkOptions`], the parent plans the network before the clone,
//! attaches it to the child's namespace while the child waits at its gate,
//! and tears it down when the sandbox ends.

use vb_fs::{DataSource, FsAction};
use vb_net::{Attachment, BridgePlan, LoopbackSetup, LoopbackStep, Pasta, PastaSpec};
use vb_proc::{ChildHook, StepFailure};

use crate::config::{JailConfig, NetworkOptions};
use crate::error::Error;

/// A sandbox's network, checked before anything exists.
#[derive(Debug)]
pub(crate) enum NetPlan {
    Bridge(BridgePlan),
    Pasta(PastaSpec),
}

/// Plan the network `config` asks for (bad input fails here, before the
/// clone).
pub(crate) fn plan(config: &JailConfig) -> Result<Option<NetPlan>, Error> {
    Ok(match &config.network {
        None => None,
        Some(NetworkOptions::Bridge(spec)) => Some(NetPlan::Bridge(BridgePlan::new(spec)?)),
        Some(NetworkOptions::Pasta(spec)) => Some(NetPlan::Pasta(spec.clone())),
    })
}

impl NetPlan {
    /// The generated `/etc/resolv.conf`, bound read-only into the sandbox.
    pub(crate) fn resolv_conf(&self) -> Option<FsAction> {
        let Self::Bridge(plan) = self else {
            return None;
        };
        plan.resolv_conf().map(|text| FsAction::BindData {
            source: DataSource::Bytes(text.into_bytes()),
            dest: "/etc/resolv.conf".into(),
            perms: Some(0o644),
            read_only: true,
        })
    }

    /// Connect the namespace of the cloned child `pid` (waiting at its gate).
    pub(crate) fn attach(&self, pid: i32) -> Result<NetAttachment, Error> {
        let pid = u32::try_from(pid).map_err(|_| Error::InvalidConfig("negative pid".into()))?;
        Ok(match self {
            Self::Bridge(plan) => {
                let netns = vb_net::SandboxNetns::from_pid(pid)?;
                NetAttachment::Bridge(plan.attach(&netns)?)
            }
            Self::Pasta(spec) => NetAttachment::Pasta(Pasta::attach(pid, spec)?),
        })
    }
}

/// What a sandbox's network holds on the host until it ends.
#[derive(Debug)]
pub(crate) enum NetAttachment {
    Bridge(Attachment),
    Pasta(Pasta),
}

impl NetAttachment {
    /// Remove the host side (the veth; with the bridge's last sandbox the
    /// bridge and its NAT rules) or stop pasta.
    pub(crate) fn teardown(&mut self) -> Result<(), Error> {
        match self {
            Self::Bridge(attachment) => attachment.teardown()?,
            Self::Pasta(pasta) => pasta.teardown()?,
        }
        Ok(())
    }
}

/// The child-side loopback bring-up.
pub(crate) struct LoopbackHook(pub(crate) LoopbackSetup);

const STEPS: [LoopbackStep; 7] = [
    LoopbackStep::OpenSocket,
    LoopbackStep::SendAddress,
    LoopbackStep::ReceiveAddressAck,
    LoopbackStep::AddAddress,
    LoopbackStep::SendLinkUp,
    LoopbackStep::ReceiveLinkUpAck,
    LoopbackStep::SetLinkUp,
];

fn step_number(step: LoopbackStep) -> u32 {
    (1u32..)
        .zip(STEPS)
        .find_map(|(n, s)| (s == step).then_some(n))
        .unwrap_or(0)
}

// SAFETY: `LoopbackSetup::apply` runs on a request prepared in the parent, with
// stack buffers and system calls only (vb-netlink's child-side contract).
unsafe impl ChildHook for LoopbackHook {
    fn run(&self) -> Result<(), StepFailure> {
        self.0
            .apply()
            .map_err(|e| StepFailure::new(step_number(e.step), 0, e.errno))
    }
}

/// The error a network-hook failure report stands for, in bubblewrap's words.
pub(crate) fn describe(step: u32, source: std::io::Error) -> Error {
    let step = usize::try_from(step)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| STEPS.get(i).copied());
    let what = match step {
        Some(LoopbackStep::OpenSocket) => "loopback: Failed to create NETLINK_ROUTE socket",
        Some(
            LoopbackStep::SendAddress | LoopbackStep::ReceiveAddressAck | LoopbackStep::AddAddress,
        ) => "loopback: Failed RTM_NEWADDR",
        Some(
            LoopbackStep::SendLinkUp | LoopbackStep::ReceiveLinkUpAck | LoopbackStep::SetLinkUp,
        ) => "loopback: Failed RTM_NEWLINK",
        None => "loopback: setup failed",
    };
    Error::ChildStep {
        what: what.into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_numbers_round_trip_through_the_frame() {
        for step in STEPS {
            let err = describe(
                step_number(step),
                std::io::Error::from_raw_os_error(libc::EPERM),
            );
            assert!(err.to_string().starts_with("loopback: "), "{err}");
        }
        assert_eq!(step_number(LoopbackStep::OpenSocket), 1);
        assert_eq!(step_number(LoopbackStep::SetLinkUp), 7);
        assert!(
            describe(99, std::io::Error::from_raw_os_error(1))
                .to_string()
                .contains("setup failed")
        );
    }
}
