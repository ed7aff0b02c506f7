//! `cargo xtask bench`: vb against bubblewrap on the same scenarios in the same
//! run, alternating, with medians, p90s, ratios and peak RSS, plus the
//! in-process launch cost and the subsystem crates' own benchmark programs.
//! Results are printed and written to `target/bench/results.md` and
//! `target/bench/results.json`.

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::run::{cargo, root};

/// One tool's measurements on one scenario.
#[derive(Clone)]
struct Sample {
    times: Vec<Duration>,
    max_rss_kib: i64,
}

impl Sample {
    fn sorted(&self) -> Vec<Duration> {
        let mut t = self.times.clone();
        t.sort();
        t
    }

    fn median(&self) -> Duration {
        let t = self.sorted();
        t.get(t.len() / 2).copied().unwrap_or_default()
    }

    fn p90(&self) -> Duration {
        let t = self.sorted();
        let idx = (t.len() * 9 / 10).min(t.len().saturating_sub(1));
        t.get(idx).copied().unwrap_or_default()
    }
}

/// What a row is judged against.
#[derive(Clone, Copy)]
enum Target {
    /// No target.
    None,
    /// vb's median at most this fraction of the baseline's.
    Ratio(f64),
    /// vb's median at most this many milliseconds above the baseline's.
    OverheadMs(f64),
}

/// A row of the report: vb, and optionally a baseline (bwrap, or vb without
/// the feature whose cost is measured).
struct Row {
    scenario: String,
    vb: Sample,
    baseline: Option<(&'static str, Sample)>,
    target: Target,
}

/// Run `argv` once and return its wall time.
fn run_timed(argv: &[String]) -> Result<Duration> {
    let start = Instant::now();
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("starting {}", argv[0]))?;
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("{} failed ({status})", argv.join(" "));
    }
    Ok(elapsed)
}

/// GNU time, which reports a child's peak RSS.
const GNU_TIME: &str = "/usr/bin/time";

/// The peak RSS of `argv` in KiB, as GNU time reports it, or `None` without it.
///
/// `wait4`'s `ru_maxrss` cannot be used from here: the kernel records the
/// pre-exec address space's peak at `execve`, and a child spawned by this
/// (much larger) process would report this process's size. GNU time forks a
/// copy of itself, which is small, so both tools carry the same small floor.
fn peak_rss_kib(argv: &[String]) -> Result<Option<i64>> {
    if !std::path::Path::new(GNU_TIME).exists() {
        return Ok(None);
    }
    let out = Command::new(GNU_TIME)
        .args(["-f", "%M"])
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .context("running GNU time")?;
    if !out.status.success() {
        bail!("{} failed under GNU time", argv.join(" "));
    }
    let text = String::from_utf8_lossy(&out.stderr);
    Ok(text.lines().last().and_then(|l| l.trim().parse().ok()))
}

/// The largest peak RSS over a few runs (0 when GNU time is missing).
fn max_rss(argv: &[String]) -> Result<i64> {
    let mut max = 0;
    for _ in 0..RSS_RUNS {
        match peak_rss_kib(argv)? {
            Some(kib) => max = max.max(kib),
            None => return Ok(0),
        }
    }
    Ok(max)
}

/// Runs per tool for the peak-RSS measurement.
const RSS_RUNS: usize = 10;

fn measure_pair(
    vb: &[String],
    bwrap: Option<&[String]>,
    runs: usize,
) -> Result<(Sample, Option<Sample>)> {
    let (mut a, mut b) = measure_pair_with(vb, bwrap, runs, run_timed)?;
    a.max_rss_kib = max_rss(vb)?;
    if let (Some(argv), Some(sample)) = (bwrap, b.as_mut()) {
        sample.max_rss_kib = max_rss(argv)?;
    }
    Ok((a, b))
}

/// Alternating runs of `vb` and the baseline, each timed by `run`, after a
/// tenth as many warm-up runs (peak RSS not measured).
fn measure_pair_with(
    vb: &[String],
    baseline: Option<&[String]>,
    runs: usize,
    run: impl Fn(&[String]) -> Result<Duration>,
) -> Result<(Sample, Option<Sample>)> {
    for _ in 0..runs / 10 + 1 {
        run(vb)?;
        if let Some(b) = baseline {
            run(b)?;
        }
    }
    let sample = || Sample {
        times: Vec::with_capacity(runs),
        max_rss_kib: 0,
    };
    let mut a = sample();
    let mut b = baseline.map(|_| sample());
    for _ in 0..runs {
        a.times.push(run(vb)?);
        if let (Some(argv), Some(sample)) = (baseline, b.as_mut()) {
            sample.times.push(run(argv)?);
        }
    }
    Ok((a, b))
}

/// The time from starting `argv` to the first line of its standard error
/// containing `marker` (the rest of the run, waited for, is not counted).
fn run_until_marker(argv: &[String], marker: &str) -> Result<Duration> {
    use std::io::BufRead;
    let start = Instant::now();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", argv[0]))?;
    let mut lines = std::io::BufReader::new(child.stderr.take().context("stderr")?).lines();
    let mut elapsed = None;
    let mut text = String::new();
    for line in lines.by_ref() {
        let line = line?;
        if line.contains(marker) {
            elapsed = Some(start.elapsed());
            break;
        }
        text.push_str(&line);
        text.push('\n');
    }
    for line in lines {
        line?;
    }
    let status = child.wait()?;
    match elapsed {
        Some(elapsed) if status.success() => Ok(elapsed),
        _ => bail!(
            "{} failed ({status}) or said no {marker:?}: {text}",
            argv.join(" ")
        ),
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn bwrap_available() -> bool {
    Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The bind counts of the filesystem scaling scenario.
const BIND_COUNTS: [usize; 4] = [10, 100, 500, 1000];

/// The filesystem scaling scenario: `--ro-bind` of N distinct directories for
/// N = 10, 100, 500, 1000, vb against bwrap. bubblewrap re-reads the mount table for
/// every bind (quadratic); vb's cost must grow linearly (time(500)/time(100)
/// at most 6) and be at most half of bwrap's at N = 500, and at N = 1000 at most
/// a hundredth of bwrap's.
fn ro_bind_scaling(vb: &str, have_bwrap: bool, runs: usize) -> Result<Vec<Row>> {
    let dir = std::env::temp_dir().join(format!("vb-bench-binds-{}", std::process::id()));
    let result = ro_bind_rows(&dir, vb, have_bwrap, runs);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn ro_bind_rows(
    dir: &std::path::Path,
    vb: &str,
    have_bwrap: bool,
    runs: usize,
) -> Result<Vec<Row>> {
    let most = BIND_COUNTS.iter().copied().max().unwrap_or(0);
    for i in 0..most {
        std::fs::create_dir_all(dir.join(format!("d{i}")))
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let base = "--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64";
    let mut rows = Vec::new();
    let mut medians = Vec::new();
    for n in BIND_COUNTS {
        // bwrap takes 0.15 s a run at 500 binds and 1.4 s at 1000.
        let n_runs = match n {
            1000.. => (runs / 20).max(5),
            500.. => (runs / 4).max(10),
            _ => runs,
        };
        println!("xtask: bench fs: {n} --ro-bind ({n_runs} runs each, alternating)");
        let mut args = words(base);
        for i in 0..n {
            args.push("--ro-bind".into());
            args.push(dir.join(format!("d{i}")).display().to_string());
            args.push(format!("/d/{i}"));
        }
        args.push("/bin/true".into());
        let mut vb_argv = vec![vb.to_owned()];
        vb_argv.extend(args.iter().cloned());
        let mut bwrap_argv = vec!["bwrap".to_owned()];
        bwrap_argv.extend(args);
        let (a, b) = measure_pair(
            &vb_argv,
            have_bwrap.then_some(bwrap_argv.as_slice()),
            n_runs,
        )?;
        medians.push((n, a.median()));
        rows.push(Row {
            scenario: format!("fs: {n} --ro-bind of distinct directories"),
            vb: a,
            baseline: b.map(|b| ("bwrap", b)),
            target: Target::None,
        });
    }
    let at = |n: usize| medians.iter().find(|(m, _)| *m == n).map(|(_, d)| ms(*d));
    let growth = at(500)
        .zip(at(100))
        .map(|(big, mid)| big / mid.max(f64::MIN_POSITIVE));
    if let (Some(growth), Some(row)) = (
        growth,
        rows.iter_mut().find(|r| r.scenario.starts_with("fs: 500 ")),
    ) {
        let verdict = if growth <= 6.0 { "met" } else { "MISSED" };
        row.scenario = format!(
            "{} (vb time(500)/time(100) = {growth:.2}, target ≤ 6: {verdict})",
            row.scenario
        );
        row.target = Target::Ratio(0.5);
    }
    if let Some(row) = rows
        .iter_mut()
        .find(|r| r.scenario.starts_with("fs: 1000 "))
    {
        row.target = Target::Ratio(0.01);
    }
    Ok(rows)
}

/// This process's resident set size in KiB (`VmRSS`).
fn own_rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// `/bin/true` with every namespace and the host's root, the in-process
/// launches' configuration.
fn true_with_every_namespace() -> voidbox::JailConfig {
    voidbox::JailConfig {
        rootfs: voidbox::RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        isolation: voidbox::Namespaces::ALL,
        ..voidbox::JailConfig::default()
    }
}

/// One in-process launch, timed; a failed one ends the bench.
fn timed_launch(config: &voidbox::JailConfig) -> Result<Duration> {
    let start = Instant::now();
    let status = voidbox::launch(config)?;
    if !status.success() {
        bail!("library launch failed: {status}");
    }
    Ok(start.elapsed())
}

/// In-process `voidbox::launch` of `/bin/true` with every namespace: the
/// per-launch time, and how much this process's RSS grew over the launches
/// (a leak shows up there).
fn library_launch(runs: usize) -> Result<(Sample, i64)> {
    let config = true_with_every_namespace();
    let mut times = Vec::with_capacity(runs);
    let mut rss_before = 0;
    for i in 0..runs + runs / 10 {
        if i == runs / 10 {
            rss_before = own_rss_kib();
        }
        let took = timed_launch(&config)?;
        if i >= runs / 10 {
            times.push(took);
        }
    }
    let growth = own_rss_kib() - rss_before;
    Ok((
        Sample {
            times,
            max_rss_kib: 0,
        },
        growth,
    ))
}

/// In-process launches from a host of growing size: `voidbox::launch` of
/// `/bin/true` with every namespace while this process holds `mib` MiB of
/// touched memory and 8 threads allocate and free in a loop, as an embedder
/// (a build system, a language server) would. One sample per size; and, at
/// the first size, a sample of the embedder's alternative — running the CLI
/// `cli` from the same busy host — alternating with the launches.
fn host_size_launches(
    runs: usize,
    sizes: &[usize],
    cli: &[String],
) -> Result<(Vec<(usize, Sample)>, Sample)> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let config = true_with_every_namespace();
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..8)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut kept: Vec<Vec<u8>> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let mut v = vec![0u8; 4096];
                    v[0] = 1;
                    kept.push(v);
                    if kept.len() > 64 {
                        kept.clear();
                    }
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    let mut out = Vec::new();
    let mut cli_sample = Sample {
        times: Vec::with_capacity(runs),
        max_rss_kib: 0,
    };
    let result = (|| -> Result<()> {
        for (index, &mib) in sizes.iter().enumerate() {
            // Every page written, so the page tables map all of it.
            let mut held = vec![0u8; mib << 20];
            for page in held.chunks_mut(4096) {
                page[0] = 1;
            }
            let mut times = Vec::with_capacity(runs);
            for i in 0..runs + runs / 10 {
                let took = timed_launch(&config)?;
                if i >= runs / 10 {
                    times.push(took);
                }
                if index == 0 {
                    let took = run_timed(cli)?;
                    if i >= runs / 10 {
                        cli_sample.times.push(took);
                    }
                }
            }
            std::hint::black_box(&held);
            drop(held);
            out.push((
                mib,
                Sample {
                    times,
                    max_rss_kib: 0,
                },
            ));
        }
        Ok(())
    })();
    stop.store(true, Ordering::Relaxed);
    for t in busy {
        let _ = t.join();
    }
    result.map(|()| (out, cli_sample))
}

/// The in-process measurements, taken by a release build of the library
/// (see [`in_process`]).
struct InProcess {
    /// `voidbox::launch` alone, and the RSS growth over those launches.
    launch: Sample,
    growth: i64,
    /// From a host holding each size (MiB) with 8 busy threads.
    by_size: Vec<(usize, Sample)>,
    /// The CLI run from that host at the first size.
    cli: Sample,
}

/// The host sizes of the in-process scenario, in MiB.
const HOST_SIZES: [usize; 3] = [0, 256, 1024];

/// Takes the in-process measurements in this process.
fn measure_in_process(vb: &str, runs: usize) -> Result<InProcess> {
    let launches = runs.max(500);
    println!("xtask: bench in-process voidbox::launch ({launches} launches)");
    let (launch, growth) = library_launch(launches)?;
    let size_runs = runs.clamp(20, 100);
    println!(
        "xtask: bench in-process voidbox::launch from a host holding {HOST_SIZES:?} MiB with 8 busy threads ({size_runs} launches each)"
    );
    let mut cli = vec![vb.to_owned()];
    cli.extend(words("--rootfs / --unshare-all -- /bin/true"));
    let (by_size, cli) = host_size_launches(size_runs, &HOST_SIZES, &cli)?;
    Ok(InProcess {
        launch,
        growth,
        by_size,
        cli,
    })
}

/// `cargo xtask bench-in-process VB RUNS` (run by [`in_process`]): the
/// measurements as lines of `sample <key> <nanoseconds>...` and
/// `growth <KiB>`.
pub(crate) fn print_in_process(args: &[String]) -> Result<()> {
    let [vb, runs] = args else {
        bail!("usage: cargo xtask bench-in-process VB RUNS");
    };
    let m = measure_in_process(vb, runs.parse().context("RUNS")?)?;
    let line = |key: &str, s: &Sample| {
        let ns: Vec<String> = s.times.iter().map(|t| t.as_nanos().to_string()).collect();
        println!("sample {key} {}", ns.join(" "));
    };
    line("launch", &m.launch);
    for (mib, s) in &m.by_size {
        line(&format!("size{mib}"), s);
    }
    line("cli", &m.cli);
    println!("growth {}", m.growth);
    Ok(())
}

/// The in-process measurements from a release build of the library, as an
/// embedder ships it: `cargo xtask` itself is a debug build, so it runs its
/// release build's `bench-in-process` and reads the figures back.
fn in_process(vb: &str, runs: usize) -> Result<InProcess> {
    if !cfg!(debug_assertions) {
        return measure_in_process(vb, runs);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "--release", "--quiet", "-p", "xtask", "--"])
        .args(["bench-in-process", vb, &runs.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .context("running the release build of xtask")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "the release build's in-process bench failed ({}):\n{text}",
            out.status
        );
    }
    let mut samples = std::collections::BTreeMap::new();
    let mut growth = 0;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("sample") => {
                let key = words.next().context("a sample without a key")?.to_owned();
                let times = words
                    .map(|w| w.parse().map(Duration::from_nanos))
                    .collect::<Result<Vec<_>, _>>()
                    .with_context(|| format!("sample {key}"))?;
                samples.insert(
                    key,
                    Sample {
                        times,
                        max_rss_kib: 0,
                    },
                );
            }
            Some("growth") => growth = words.next().context("growth")?.parse()?,
            _ => println!("{line}"),
        }
    }
    let mut take = |key: &str| {
        samples
            .remove(key)
            .with_context(|| format!("no sample {key} from the release build"))
    };
    Ok(InProcess {
        launch: take("launch")?,
        growth,
        by_size: HOST_SIZES
            .iter()
            .map(|&mib| take(&format!("size{mib}")).map(|s| (mib, s)))
            .collect::<Result<_>>()?,
        cli: take("cli")?,
    })
}

/// The in-process rows: the launch alone, from a small busy host against
/// the CLI run from it, and from the larger hosts against the small one.
fn in_process_rows(vb: &str, runs: usize) -> Result<Vec<Row>> {
    let m = in_process(vb, runs)?;
    let launches = m.launch.times.len();
    let mut rows = vec![Row {
        scenario: format!(
            "voidbox::launch /bin/true (in-process, all namespaces; RSS growth over {launches} launches: {} KiB)",
            m.growth
        ),
        vb: m.launch,
        baseline: None,
        target: Target::None,
    }];
    if let Some((_, small)) = m.by_size.first() {
        rows.push(Row {
            scenario: "voidbox::launch from a small host (0 MiB, 8 busy threads) vs the same host running the CLI --rootfs / --unshare-all".into(),
            vb: small.clone(),
            baseline: Some(("vb CLI from that host", m.cli.clone())),
            target: Target::Ratio(0.8),
        });
        for (mib, sample) in m.by_size.iter().skip(1) {
            rows.push(Row {
                scenario: format!(
                    "voidbox::launch from a host holding {mib} MiB (8 busy threads) vs 0 MiB"
                ),
                vb: sample.clone(),
                baseline: Some(("0 MiB host", small.clone())),
                target: Target::Ratio(1.15),
            });
        }
    }
    Ok(rows)
}

/// The subsystem crates' benchmark programs: `(package, example)`. Each prints
/// `bench <name> <value> <unit>` lines.
const EXAMPLE_BENCHES: &[(&str, &str)] = &[
    ("vb-netlink", "bench_parse"),
    ("vb-netlink", "bench_setup"),
    ("vb-cgroup", "bench_cgroup"),
];

fn example_exists(package: &str, example: &str) -> bool {
    root()
        .join("crates")
        .join(package)
        .join("examples")
        .join(format!("{example}.rs"))
        .exists()
}

fn run_example_benches() -> Vec<String> {
    let mut lines = Vec::new();
    for (package, example) in EXAMPLE_BENCHES {
        if !example_exists(package, example) {
            lines.push(format!("SKIP {package}/{example}: not present"));
            continue;
        }
        let out = cargo(&[
            "run",
            "--quiet",
            "--release",
            "-p",
            package,
            "--example",
            example,
        ])
        .output();
        match out {
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout);
                let mut any = false;
                for line in text
                    .lines()
                    .filter(|l| l.starts_with("bench ") || l.starts_with("SKIP"))
                {
                    lines.push(format!("{package}/{example}: {line}"));
                    any = true;
                }
                if !o.status.success() || !any {
                    lines.push(format!("{package}/{example}: failed ({})", o.status));
                }
            }
            Err(e) => lines.push(format!("{package}/{example}: could not run: {e}")),
        }
    }
    lines
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(rows: &[Row], extra: &[String]) -> (String, String) {
    let mut md = String::from(
        "| scenario | tool | median ms | p90 ms | vs baseline | target | peak RSS KiB |\n|---|---|---|---|---|---|---|\n",
    );
    let mut json = String::from("{\n  \"scenarios\": [\n");
    for (i, row) in rows.iter().enumerate() {
        let base = row.baseline.as_ref();
        let ratio = base.map(|(_, b)| ms(row.vb.median()) / ms(b.median()).max(f64::MIN_POSITIVE));
        let delta = base.map(|(_, b)| ms(row.vb.median()) - ms(b.median()));
        let (versus, verdict) = match (row.target, ratio, delta) {
            (Target::Ratio(t), Some(r), _) => (
                format!("{r:.2}×"),
                format!("≤ {t}× ({})", if r <= t { "met" } else { "MISSED" }),
            ),
            (Target::OverheadMs(t), _, Some(d)) => (
                format!("{d:+.3} ms"),
                format!("≤ +{t} ms ({})", if d <= t { "met" } else { "MISSED" }),
            ),
            (_, Some(r), _) => (format!("{r:.2}×"), "-".into()),
            _ => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            md,
            "| {} | vb | {:.3} | {:.3} | {versus} | {verdict} | {} |",
            row.scenario,
            ms(row.vb.median()),
            ms(row.vb.p90()),
            row.vb.max_rss_kib
        );
        if let Some((label, b)) = base {
            let _ = writeln!(
                md,
                "| {} | {label} | {:.3} | {:.3} | | | {} |",
                row.scenario,
                ms(b.median()),
                ms(b.p90()),
                b.max_rss_kib
            );
        }
        let _ = write!(
            json,
            "    {{\"scenario\": \"{}\", \"vb_median_ms\": {:.4}, \"vb_p90_ms\": {:.4}, \"vb_peak_rss_kib\": {}",
            row.scenario,
            ms(row.vb.median()),
            ms(row.vb.p90()),
            row.vb.max_rss_kib
        );
        if let Some((label, b)) = base {
            let _ = write!(
                json,
                ", \"baseline\": \"{label}\", \"baseline_median_ms\": {:.4}, \"baseline_p90_ms\": {:.4}, \"baseline_peak_rss_kib\": {}, \"ratio\": {:.4}, \"delta_ms\": {:.4}",
                ms(b.median()),
                ms(b.p90()),
                b.max_rss_kib,
                ratio.unwrap_or(0.0),
                delta.unwrap_or(0.0)
            );
        }
        json.push('}');
        json.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    json.push_str("  ],\n  \"subsystem_benches\": [\n");
    for (i, line) in extra.iter().enumerate() {
        let _ = write!(json, "    \"{}\"", line.replace('"', "'"));
        json.push_str(if i + 1 < extra.len() { ",\n" } else { "\n" });
    }
    json.push_str("  ]\n}\n");
    if !extra.is_empty() {
        md.push_str("\nSubsystem benchmarks:\n\n");
        for line in extra {
            let _ = writeln!(md, "- {line}");
        }
    }
    (md, json)
}

/// Run the benchmarks. `--runs N` sets the runs per tool and scenario.
/// Run `f` on a thread whose network namespace is new, so the networking
/// scenarios' bridges, veths and routes never touch the host's tables
/// (commands started from that thread inherit it).
fn in_private_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    std::thread::spawn(move || {
        // SAFETY: CLONE_NEWNET changes only this thread's network namespace.
        let entered = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        if entered != 0 {
            bail!("unshare(CLONE_NEWNET): {}", std::io::Error::last_os_error());
        }
        Ok(f())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the networking bench thread panicked"))?
}

/// The shell script that does by hand what `--net-bridge` does: a namespace,
/// a bridge with the gateway, a veth pair into the namespace renamed eth0,
/// the address, the links up, the default route (then it says `setup-done`
/// on stderr); then it runs the command and removes what it made.
const IP_SCRIPT: &str = "set -e
unshare -n sleep 60 & pid=$!
sleep 0.001
ip link add vbs0 type bridge
ip addr add 10.98.0.1/24 dev vbs0
ip link set vbs0 up
ip link add vbs1 type veth peer name vbs2
ip link set vbs1 master vbs0
ip link set vbs1 up
ip link set vbs2 netns $pid
nsenter -t $pid -n ip link set vbs2 name eth0
nsenter -t $pid -n ip addr add 10.98.0.2/24 dev eth0
nsenter -t $pid -n ip link set eth0 up
nsenter -t $pid -n ip link set lo up
nsenter -t $pid -n ip route add default via 10.98.0.1
echo setup-done >&2
nsenter -t $pid -n /bin/true
kill $pid; wait $pid || true
ip link del vbs1 2>/dev/null || true
ip link del vbs0";

/// The networking scenarios, run inside a private network namespace: a
/// bridged launch against the `ip` script, and 16 parallel launches with and
/// without networking (launches per second in the scenario's name).
fn network_rows(vb: &str, runs: usize) -> Result<Vec<Row>> {
    let _ = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status();
    let runs = runs.min(100);
    println!("xtask: bench --net-bridge launch against the ip script ({runs} runs each)");
    let mut bridged = vec![vb.to_owned()];
    bridged.extend(words(
        "--rootfs / --net-bridge vbb0 --net-subnet 10.97.0.0/24 -- /bin/true",
    ));
    let script = vec!["/bin/sh".to_owned(), "-c".to_owned(), IP_SCRIPT.to_owned()];
    // To setup_finished, which `--verbose` reports on stderr, against the
    // script's `setup-done`: the time until the sandbox's network is ready.
    let mut verbose = bridged.clone();
    verbose.insert(1, "--verbose".into());
    let (a, b) = measure_pair_with(&verbose, Some(script.as_slice()), runs, |argv| {
        let marker = if argv[0] == vb {
            "setup: finished"
        } else {
            "setup-done"
        };
        run_until_marker(argv, marker)
    })?;
    let mut rows = vec![Row {
        scenario: "--net-bridge to setup_finished (bridge, veth, address, route) /bin/true".into(),
        vb: a,
        baseline: b.map(|b| ("the same with ip commands", b)),
        target: Target::Ratio(0.1),
    }];
    // The whole run: most of it is the kernel deleting the bridge again.
    let (a, b) = measure_pair(&bridged, Some(script.as_slice()), runs)?;
    rows.push(Row {
        scenario: "--net-bridge whole run (with teardown) /bin/true".into(),
        vb: a,
        baseline: b.map(|b| ("the same with ip commands", b)),
        target: Target::None,
    });
    let plain = {
        let mut argv = vec![vb.to_owned()];
        argv.extend(words("--rootfs / --unshare-net -- /bin/true"));
        argv
    };
    let rounds = (runs / 10).max(5);
    let (with, without) = (
        parallel_launches(&bridged, rounds)?,
        parallel_launches(&plain, rounds)?,
    );
    let rate = |s: &Sample| 16.0 / s.median().as_secs_f64().max(f64::MIN_POSITIVE);
    rows.push(Row {
        scenario: format!(
            "16 parallel launches ({:.0}/s networked, {:.0}/s with lo only)",
            rate(&with),
            rate(&without)
        ),
        vb: with,
        baseline: Some(("16 parallel with lo only", without)),
        target: Target::None,
    });
    Ok(rows)
}

/// The wall time of `rounds` rounds of 16 simultaneous runs of `argv`.
fn parallel_launches(argv: &[String], rounds: usize) -> Result<Sample> {
    let mut sample = Sample {
        times: Vec::with_capacity(rounds),
        max_rss_kib: 0,
    };
    for _ in 0..rounds {
        let start = Instant::now();
        let children: Vec<_> = (0..16)
            .map(|_| {
                Command::new(&argv[0])
                    .args(&argv[1..])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
            })
            .collect::<std::io::Result<_>>()
            .context("starting the parallel launches")?;
        for mut child in children {
            if !child.wait()?.success() {
                bail!("{} failed in the parallel round", argv.join(" "));
            }
        }
        sample.times.push(start.elapsed());
    }
    Ok(sample)
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let runs = match args.iter().position(|a| a == "--runs") {
        Some(i) => args
            .get(i + 1)
            .context("--runs needs a number")?
            .parse()
            .context("--runs needs a number")?,
        None => 200,
    };
    let vb = crate::run::dist()?.display().to_string();
    if !std::path::Path::new(GNU_TIME).exists() {
        println!(
            "SKIP peak RSS: {GNU_TIME} is not installed (apt-get install -y time); shown as 0"
        );
    }
    let have_bwrap = bwrap_available();
    if !have_bwrap {
        println!("SKIP bwrap comparison: bwrap is not installed (apt-get install -y bubblewrap)");
    }
    let scenarios: &[(&str, &str, &str, Option<f64>)] = &[
        (
            "startup --unshare-all /bin/true",
            "--rootfs / --unshare-all -- /bin/true",
            "--bind / / --unshare-all /bin/true",
            Some(0.72),
        ),
        (
            "fs: --unshare-all --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp",
            "--unshare-all --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp /bin/true",
            "--unshare-all --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp /bin/true",
            Some(0.6),
        ),
    ];
    let mut rows = Vec::new();
    for (name, vb_args, bwrap_args, target) in scenarios {
        println!("xtask: bench {name} ({runs} runs each, alternating)");
        let mut vb_argv = vec![vb.clone()];
        vb_argv.extend(words(vb_args));
        let mut bwrap_argv = vec!["bwrap".to_owned()];
        bwrap_argv.extend(words(bwrap_args));
        let (a, b) = measure_pair(&vb_argv, have_bwrap.then_some(bwrap_argv.as_slice()), runs)?;
        rows.push(Row {
            scenario: (*name).to_owned(),
            vb: a,
            baseline: b.map(|b| ("bwrap", b)),
            target: target.map_or(Target::None, Target::Ratio),
        });
    }
    // The kernel's floor: util-linux unshare making the same namespaces (no
    // network namespace on either side) with nothing else to do.
    let unshare = "/usr/bin/unshare";
    if std::path::Path::new(unshare).exists() {
        println!("xtask: bench vb against unshare -Urmpfiu -C ({runs} runs each, alternating)");
        let mut vb_argv = vec![vb.clone()];
        vb_argv.extend(words("--rootfs / --unshare-all --share-net -- /bin/true"));
        let floor: Vec<String> = [unshare, "-Urmpfiu", "-C", "/bin/true"]
            .map(str::to_owned)
            .to_vec();
        let (a, b) = measure_pair(&vb_argv, Some(floor.as_slice()), runs)?;
        rows.push(Row {
            scenario: "--rootfs / --unshare-all --share-net /bin/true against unshare -Urmpfiu -C"
                .into(),
            vb: a,
            baseline: b.map(|b| ("unshare", b)),
            target: Target::Ratio(1.05),
        });
    } else {
        println!("SKIP the unshare comparison: {unshare} is not installed (util-linux)");
    }
    rows.extend(ro_bind_scaling(&vb, have_bwrap, runs)?);
    // The cost of cgroup limits: the same launch with and without them.
    if crate::run::is_root() {
        println!("xtask: bench cgroup limits overhead ({runs} runs each, alternating)");
        let base: Vec<String> = [vb.as_str()]
            .into_iter()
            .map(str::to_owned)
            .chain(words("--rootfs / --unshare-all -- /bin/true"))
            .collect();
        let mut limited = vec![vb.clone()];
        limited.extend(words(
            "--rootfs / --unshare-all --memory-max 256M --pids-max 256 --cpu-max 50000/100000 -- /bin/true",
        ));
        let (a, b) = measure_pair(&limited, Some(base.as_slice()), runs)?;
        rows.push(Row {
            scenario: "startup with memory+pids+cpu limits".into(),
            vb: a,
            baseline: b.map(|b| ("vb without limits", b)),
            target: Target::OverheadMs(1.0),
        });
    } else {
        println!("SKIP cgroup limits overhead: needs root to create cgroups");
    }
    // The cost of the security beyond bubblewrap: the default seccomp
    // profile (compiled in the parent) and three Landlock rules (the ABI
    // probed in the parent, the rules made in the child).
    println!("xtask: bench --seccomp-default + 3 landlock rules ({runs} runs each, alternating)");
    let plain = {
        let mut argv = vec![vb.clone()];
        argv.extend(words("--rootfs / --unshare-all -- /bin/true"));
        argv
    };
    let mut secured = vec![vb.clone()];
    secured.extend(words(
        "--rootfs / --unshare-all --seccomp-default --landlock-ro / --landlock-exec /usr \
         --landlock-rw /tmp -- /bin/true",
    ));
    let (a, b) = measure_pair(&secured, Some(plain.as_slice()), runs)?;
    rows.push(Row {
        scenario: "startup with --seccomp-default and 3 landlock rules".into(),
        vb: a,
        baseline: b.map(|b| ("vb without them", b)),
        target: Target::OverheadMs(0.3),
    });
    if crate::run::is_root() {
        let vb_path = vb.clone();
        rows.extend(in_private_netns(move || network_rows(&vb_path, runs))??);
    } else {
        println!("SKIP networking: the bridge needs root (CAP_NET_ADMIN)");
    }
    rows.extend(in_process_rows(&vb, runs)?);
    let extra = run_example_benches();
    let (md, json) = report(&rows, &extra);
    println!("\n{md}");
    let dir = crate::run::target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("results.md"), &md)?;
    std::fs::write(dir.join("results.json"), &json)?;
    println!("xtask: results written to {}", dir.display());
    Ok(())
}
