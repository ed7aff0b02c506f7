//! The facade's side of vb-netlink: with a new network namespace, the sandbox's
//! `lo` is brought up with 127.0.0.1/8 from inside the child, as bubblewrap
//! does, with request bytes prepared before the clone.

use vb_net::{LoopbackSetup, LoopbackStep};
use vb_proc::{ChildHook, StepFailure};

use crate::error::Error;

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
