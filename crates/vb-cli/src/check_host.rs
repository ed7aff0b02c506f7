//! `vb --check-host`: what this host offers a sandbox, as a table for a
//! reader (the JSON form is the library's `HostReport::to_json`), and
//! whether the default sandbox works.

use std::fmt::Write as _;

use voidbox::HostReport;

fn yes(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}

/// The report as an aligned table, then the problems, then the verdict.
pub(crate) fn table(report: &HostReport) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("kernel".into(), report.kernel.clone()),
        ("running as root".into(), yes(report.root).into()),
    ];
    for (kind, on) in report.namespaces.kinds() {
        rows.push((format!("{kind} namespaces"), yes(on).into()));
    }
    rows.extend([
        (
            "new user namespaces allowed".into(),
            yes(report.user_namespaces).into(),
        ),
        ("overlayfs".into(), yes(report.overlayfs).into()),
        ("cgroup layout".into(), report.cgroups.name().into()),
        (
            "cgroup controllers".into(),
            if report.cgroup_controllers.is_empty() {
                "none".into()
            } else {
                report.cgroup_controllers.join(" ")
            },
        ),
        (
            "landlock".into(),
            report
                .landlock_abi
                .map_or_else(|| "no".into(), |abi| format!("ABI {abi}")),
        ),
        ("seccomp filters".into(), yes(report.seccomp).into()),
        ("veth pairs".into(), yes(report.veth).into()),
        ("bridges".into(), yes(report.bridge).into()),
        (
            "NAT backend".into(),
            report.nat_backend_name().unwrap_or("none").into(),
        ),
        (
            "pasta".into(),
            report
                .pasta
                .as_ref()
                .map_or_else(|| "not installed".into(), |p| p.display().to_string()),
        ),
        ("/dev/net/tun usable".into(), yes(report.tun).into()),
    ]);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in &rows {
        let _ = writeln!(out, "{key:width$}  {value}");
    }
    let problems = report.problems();
    for problem in &problems {
        let _ = writeln!(out, "problem: {problem}");
    }
    let _ = writeln!(
        out,
        "{}",
        if problems.is_empty() {
            "the default sandbox works here"
        } else {
            "the default sandbox does not work here"
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> HostReport {
        let mut report = voidbox::check_host().unwrap();
        report.root = false;
        report.user_namespaces = false;
        report.pasta = Some("/usr/bin/pa\"sta".into());
        report
    }

    #[test]
    fn a_host_without_namespaces_for_the_caller_is_a_problem_in_both_forms() {
        let report = report();
        let table = table(&report);
        assert!(
            table.contains("\nproblem: user namespaces are disabled"),
            "{table}"
        );
        assert!(
            table.ends_with("the default sandbox does not work here\n"),
            "{table}"
        );
        let json = report.to_json();
        assert!(json.contains("\"ok\":false"), "{json}");
        assert!(json.contains("\"pasta\":\"/usr/bin/pa\\\"sta\""), "{json}");
        assert!(
            json.contains("\"problems\":[\"user namespaces are disabled"),
            "{json}"
        );
        assert!(json.ends_with("}\n"), "{json}");
    }
}
