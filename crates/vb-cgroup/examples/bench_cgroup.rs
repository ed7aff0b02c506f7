//! Cost of a sandbox cgroup's life without a process: create (with memory, pids and CPU
//! limits) followed by remove, as a launcher pays it per sandbox.
//!
//! Run as root: `cargo run --release -p vb-cgroup --example bench_cgroup [ITERATIONS]`.
//! Prints `bench <name> <value> <unit>` lines (medians and 90th percentiles, in µs).

use std::error::Error;
use std::time::{Duration, Instant};

use vb_cgroup::{CgroupLayout, CgroupSpec, CpuMax, ResourceLimits, SandboxCgroup};

const DEFAULT_ITERATIONS: usize = 300;

fn percentile(samples: &mut [Duration], fraction: f64) -> f64 {
    samples.sort_unstable();
    let last = samples.len().saturating_sub(1);
    // The index is within 0..=last by construction; rounding toward zero is intended.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((last as f64) * fraction) as usize;
    samples
        .get(index.min(last))
        .map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

fn report(name: &str, samples: &mut [Duration]) {
    println!("bench {name}_median {:.1} us", percentile(samples, 0.5));
    println!("bench {name}_p90 {:.1} us", percentile(samples, 0.9));
}

fn main() -> Result<(), Box<dyn Error>> {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP bench_cgroup: needs root to create cgroups");
        return Ok(());
    }
    let iterations = match std::env::args().nth(1) {
        Some(n) => n.parse::<usize>()?.max(200),
        None => DEFAULT_ITERATIONS,
    };
    let limits = ResourceLimits {
        memory_max: Some(256 << 20),
        memory_swap_max: Some(0),
        cpu_max: Some(CpuMax {
            quota_us: 50_000,
            period_us: 100_000,
        }),
        pids_max: Some(256),
        ..ResourceLimits::default()
    };
    let spec = CgroupSpec::new(limits);

    let mut detect = Vec::with_capacity(iterations);
    let mut cached = Vec::with_capacity(iterations);
    let mut create_only = Vec::with_capacity(iterations);
    let mut full = Vec::with_capacity(iterations);
    let layout = CgroupLayout::detect()?;
    let (probe, warnings) = SandboxCgroup::create_in(&layout, &spec)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    eprintln!(
        "mode {:?}, {} directories per sandbox",
        probe.mode(),
        probe.dirs().len()
    );
    probe.remove()?;

    for _ in 0..iterations {
        let start = Instant::now();
        let layout = CgroupLayout::detect()?;
        detect.push(start.elapsed());
        std::hint::black_box(&layout);

        let start = Instant::now();
        let (cgroup, _) = SandboxCgroup::create_in(&layout, &spec)?;
        create_only.push(start.elapsed());
        cgroup.remove()?;
        cached.push(start.elapsed());

        let start = Instant::now();
        let (cgroup, _) = SandboxCgroup::create(&spec)?;
        cgroup.remove()?;
        full.push(start.elapsed());
    }
    println!("bench cgroup_iterations {iterations} count");
    report("cgroup_layout_detect", &mut detect);
    report("cgroup_create_limits", &mut create_only);
    report("cgroup_create_limits_remove", &mut cached);
    report("cgroup_detect_create_limits_remove", &mut full);
    Ok(())
}
