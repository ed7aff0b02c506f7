//! Sample 34: cgroup resource limits.
//!
//! ```text
//! cargo run -p voidbox --example sample_34_resource_limits
//! ```
//!
//! With any limit set, voidbox puts the sandbox in a cgroup of its own,
//! created under the caller's cgroup and removed after `wait`; the cgroup
//! namespace is rooted there. The limits here are the reference document's
//! strings: 256 MiB of memory, half a CPU (50 ms per 100 ms) and 256 tasks.
//! While the command runs, the sample finds the sandbox's cgroups from
//! `/proc/PID/cgroup` and reads the limits back from the host side (cgroup
//! v2's `memory.max`, `cpu.max`, `pids.max`, or v1's equivalents). Prints
//! `limit memory=268435456`, `limit cpu=50000/100000`, `limit pids=256`,
//! then `exit=0`.
//!
//! A limit whose controller the caller cannot use (an unprivileged caller
//! without a delegated cgroup, a controller not enabled) becomes a runtime
//! warning and the sandbox runs without it: the sample prints
//! `warning: ...` for each. Where no cgroup can be created at all, the
//! launch fails and the sample prints `refused: REASON`.

use voidbox::{JailConfig, Namespaces, ResourceLimits, RootSource, Stdio};

/// The limits set on the cgroups of process `pid`, as `KIND=VALUE`.
fn limits_of(pid: i32) -> std::io::Result<Vec<String>> {
    let read = |path: String| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
    };
    let mut found = Vec::new();
    for line in std::fs::read_to_string(format!("/proc/{pid}/cgroup"))?.lines() {
        // `ID:CONTROLLERS:PATH`; v2's line has no controllers.
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if controllers.is_empty() {
            let dir = format!("/sys/fs/cgroup{path}");
            for (kind, file) in [
                ("memory", "memory.max"),
                ("cpu", "cpu.max"),
                ("pids", "pids.max"),
            ] {
                if let Some(value) = read(format!("{dir}/{file}")) {
                    found.push(format!("{kind}={}", value.replace(' ', "/")));
                }
            }
            continue;
        }
        // A v1 hierarchy is mounted on a directory named after its controllers.
        let dir = format!("/sys/fs/cgroup/{controllers}{path}");
        for controller in controllers.split(',') {
            let value = match controller {
                "memory" => read(format!("{dir}/memory.limit_in_bytes")),
                "pids" => read(format!("{dir}/pids.max")),
                "cpu" => read(format!("{dir}/cpu.cfs_quota_us"))
                    .zip(read(format!("{dir}/cpu.cfs_period_us")))
                    .map(|(quota, period)| format!("{quota}/{period}")),
                _ => None,
            };
            if let Some(value) = value {
                found.push(format!("{controller}={value}"));
            }
        }
    }
    Ok(found)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let limits =
        ResourceLimits::from_reference(Some("268435456"), Some("50000 100000"), Some("256"))?;
    let mut config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/cat".into()], // runs until its stdin closes
        resources: limits,
        isolation: Namespaces {
            cgroup: true,
            ..Namespaces::default()
        },
        ..JailConfig::default()
    };
    config.process.stdin = Stdio::piped();
    let mut session = match voidbox::spawn(&config) {
        Ok(session) => session,
        Err(e) => {
            println!("refused: {e}");
            return Ok(());
        }
    };
    for warning in session.warnings() {
        println!("warning: {warning}");
    }
    let found = limits_of(session.pid());
    drop(session.stdin.take());
    let status = session.wait()?;
    let mut found = found?;
    found.sort();
    for limit in found {
        println!("limit {limit}");
    }
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
