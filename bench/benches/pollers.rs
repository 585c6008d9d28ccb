//! Criterion benchmarks: one group per workload, one function per implementation, so the
//! report (target/criterion/report/index.html) shows them side by side.
//!
//! `cargo bench -p pollio-bench --bench pollers`; one workload: add `-- pingpong-1`.
//! The paired runner (`cargo bench -p pollio-bench --bench compare`) gives the ratios that survive a noisy
//! machine; this gives criterion's plots and its history between runs.

// Parts of the shared module serve only the paired runner (its --count mode and tables).
#[allow(dead_code)]
mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

fn pollers(c: &mut Criterion) {
    for workload in common::workloads() {
        let mut group = c.benchmark_group(workload.name);
        group.throughput(Throughput::Elements(workload.units_per_op));
        if workload.unit == "request" || workload.unit == "wait" {
            group.sample_size(10);
        }
        for mut contender in (workload.contenders)() {
            group.bench_function(contender.label(), |b| {
                b.iter_custom(|iters| contender.batch(iters))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = pollers
}
criterion_main!(benches);
