//! vb-cgroup: one cgroup per sandbox, created under the caller's own cgroup, with
//! resource limits, a runtime-warning model and cleanup.
