//! The paired comparison runner: `cargo bench -p pollio-bench --bench compare`.
//!
//! For every workload it runs the implementations in rotation, one batch each, round after
//! round (A B C D, B C D A, C D A B, ...: each round starts one later), so that every
//! implementation sees the same machine noise within a round and none always follows the same
//! other one. It prints, per implementation, the median time per unit,
//! the min–max spread, and the median over rounds of the per-round ratio to the baseline with
//! its 25th–75th percentiles. On a shared, noisy machine only those ratios mean much. The
//! baseline is raw epoll on Linux, polling elsewhere (`bench/windows.sh` runs this under Wine).
//!
//! Options (after `--`):
//!
//! - `--seconds S`: time budget of the whole run (default 60);
//! - `--only NAME,NAME`: run only these workloads;
//! - `--tsv PATH`: also write the ratios as tab-separated values (input of `bench/chart.py`);
//!   cargo starts the runner in `bench/`, so a relative PATH is taken from there;
//! - `--list`: print each workload's name, units per op and implementation keys;
//! - `--count WORKLOAD KEY ITERS`: run one batch of ITERS operations of one implementation and
//!   nothing else; `bench/counts.sh` runs this under callgrind and strace.

mod common;

use common::{workloads, Contender, Workload, BASELINE};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Each batch aims at this much measured time, and takes at least `Workload::min_iters` ops.
const BATCH: Duration = Duration::from_millis(4);
const MIN_ROUNDS: usize = 5;
const MAX_ROUNDS: usize = 2_000;

struct Options {
    seconds: f64,
    only: Option<Vec<String>>,
    tsv: Option<String>,
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut options = Options {
        seconds: 60.0,
        only: None,
        tsv: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().unwrap_or_else(|| panic!("{arg} needs {what}"));
        match arg.as_str() {
            "--seconds" => options.seconds = value("a number").parse().expect("--seconds S"),
            "--only" => options.only = Some(value("names").split(',').map(String::from).collect()),
            "--tsv" => options.tsv = Some(value("a path")),
            "--list" => return list(),
            "--count" => {
                let workload = value("a workload");
                let key = value("an implementation key");
                let iters = value("an op count").parse().expect("--count W K ITERS");
                return count(&workload, &key, iters);
            }
            other => panic!("unknown option {other}; see bench/benches/compare.rs"),
        }
    }
    run(&options);
}

fn list() {
    for workload in workloads() {
        let keys: Vec<_> = (workload.contenders)().iter().map(|c| c.key()).collect();
        println!(
            "{} {} {}",
            workload.name,
            workload.units_per_op,
            keys.join(",")
        );
    }
}

fn count(name: &str, key: &str, iters: u64) {
    let workload = workloads()
        .into_iter()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("no workload {name}"));
    let mut contenders = (workload.contenders)();
    let contender = contenders
        .iter_mut()
        .find(|c| c.key() == key)
        .unwrap_or_else(|| panic!("{name} has no implementation {key}"));
    contender.batch(iters);
}

/// What one workload measured.
struct Outcome {
    name: &'static str,
    rows: Vec<Row>,
}

struct Row {
    label: String,
    key: &'static str,
    per_unit: Summary,
    ratio: Summary,
}

/// Median, 25th and 75th percentiles, min and max.
#[derive(Clone, Copy)]
struct Summary {
    median: f64,
    p25: f64,
    p75: f64,
    min: f64,
    max: f64,
}

impl Summary {
    fn of(values: &[f64]) -> Summary {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Summary {
            median: percentile(&v, 0.5),
            p25: percentile(&v, 0.25),
            p75: percentile(&v, 0.75),
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

/// The `q` quantile of sorted values, interpolated between the nearest ranks.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn run(options: &Options) {
    let selected: Vec<Workload> = workloads()
        .into_iter()
        .filter(|w| match &options.only {
            Some(names) => names.iter().any(|n| n == w.name),
            None => true,
        })
        .collect();
    assert!(!selected.is_empty(), "no workload matches --only");
    let budget = Duration::from_secs_f64(options.seconds / selected.len() as f64);
    println!(
        "Paired comparison: {} workloads, about {:.1} s each. Each round runs one batch of every \
         implementation in turn, starting one later each round; ratios are per round, to {} in \
         the same round.\n",
        selected.len(),
        budget.as_secs_f64(),
        BASELINE
    );
    let mut outcomes = Vec::new();
    for workload in &selected {
        outcomes.push(measure(workload, budget));
    }
    println!("{}", peer_summary(&outcomes));
    if let Some(path) = &options.tsv {
        std::fs::write(path, tsv(&outcomes)).expect("write the tsv file");
        println!("Ratios written to {path}");
    }
}

fn measure(workload: &Workload, budget: Duration) -> Outcome {
    let started = Instant::now();
    let mut contenders = (workload.contenders)();
    // Warm up every contender, and size batches from the floor's speed.
    for contender in contenders.iter_mut() {
        contender.batch(workload.min_iters);
    }
    let per_op = contenders[0].batch(workload.min_iters) / workload.min_iters as u32;
    let iters = (BATCH.as_nanos() / per_op.as_nanos().max(1)) as u64;
    let iters = iters.max(workload.min_iters);
    let units = (iters * workload.units_per_op) as f64;

    let n = contenders.len();
    let mut per_unit: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut rounds = 0;
    while rounds < MIN_ROUNDS || (started.elapsed() < budget && rounds < MAX_ROUNDS) {
        // Each round starts one implementation later, so none always runs right after the
        // same other one (which shifted wait0-empty by 3% in a test).
        for k in 0..n {
            let i = (rounds + k) % n;
            per_unit[i].push(contenders[i].batch(iters).as_nanos() as f64 / units);
        }
        rounds += 1;
    }
    let ratio = |i: usize, base: usize| -> Vec<f64> {
        (0..rounds)
            .map(|r| per_unit[i][r] / per_unit[base][r])
            .collect()
    };
    let rows: Vec<Row> = contenders
        .iter()
        .enumerate()
        .map(|(i, c)| Row {
            label: c.label(),
            key: c.key(),
            per_unit: Summary::of(&per_unit[i]),
            ratio: Summary::of(&ratio(i, 0)),
        })
        .collect();

    println!("### {} ({})", workload.name, workload.about);
    println!(
        "{rounds} rounds of {iters} ops; times in ns per {}.\n",
        workload.unit
    );
    println!(
        "| implementation | median ns/{unit} | min–max | ratio to {BASELINE} (median) | p25–p75 |",
        unit = workload.unit
    );
    println!("|---|--:|--:|--:|--:|");
    for row in &rows {
        let s = row.per_unit;
        println!(
            "| {} | {} | {}–{} | {:.3} | {:.3}–{:.3} |",
            row.label,
            ns(s.median),
            ns(s.min),
            ns(s.max),
            row.ratio.median,
            row.ratio.p25,
            row.ratio.p75
        );
    }
    let pollio = contenders.iter().position(|c| c.key() == "pollio");
    if let Some(p) = pollio {
        let mut line = String::from("\npollio against each peer, per round:");
        let mut peers = 0;
        for (i, c) in contenders.iter().enumerate() {
            if i != p && i != 0 && !c.key().starts_with("pollio-") {
                peers += 1;
                let s = Summary::of(&ratio(p, i));
                let _ = write!(
                    line,
                    " {} {:.3} ({:.3}–{:.3});",
                    c.label(),
                    s.median,
                    s.p25,
                    s.p75
                );
            }
        }
        if peers > 0 {
            println!("{}", line.trim_end_matches(';'));
        }
    }
    if workload.unit == "request" {
        let rates: Vec<String> = rows
            .iter()
            .map(|r| format!("{} {:.0}", r.label, 1e9 / r.per_unit.median))
            .collect();
        println!("\nrequests/s (median round): {}", rates.join(", "));
    }
    if contenders.iter().any(|c| !c.samples().is_empty()) {
        println!("\n| implementation | median wait (µs) | p99 (µs) | waits |");
        println!("|---|--:|--:|--:|");
        for c in &contenders {
            print_latency(c.as_ref());
        }
    }
    println!();
    Outcome {
        name: workload.name,
        rows,
    }
}

fn print_latency(contender: &dyn Contender) {
    let micros: Vec<f64> = contender
        .samples()
        .iter()
        .map(|d| d.as_secs_f64() * 1e6)
        .collect();
    let mut sorted = micros.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "| {} | {:.1} | {:.1} | {} |",
        contender.label(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted.len()
    );
}

/// A time in ns with sensible precision.
fn ns(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

/// One line per workload: pollio's ratio to the baseline and to each peer.
fn peer_summary(outcomes: &[Outcome]) -> String {
    let mut out = format!("### Summary: median per-round ratio to {BASELINE}\n\n");
    out.push_str(
        "| workload | pollio | pollio wait(i32) | mio | polling |\n|---|--:|--:|--:|--:|\n",
    );
    for outcome in outcomes {
        let cell = |key: &str| {
            outcome
                .rows
                .iter()
                .find(|r| r.key == key)
                .map_or("–".to_string(), |r| format!("{:.3}", r.ratio.median))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            outcome.name,
            cell("pollio"),
            cell("pollio-seed"),
            cell("mio"),
            cell("polling")
        );
    }
    out
}

fn tsv(outcomes: &[Outcome]) -> String {
    let mut out = String::from("workload\timplementation\tkey\tmedian_ns\tratio\tp25\tp75\n");
    for outcome in outcomes {
        for row in &outcome.rows {
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{:.3}\t{:.4}\t{:.4}\t{:.4}",
                outcome.name,
                row.label,
                row.key,
                row.per_unit.median,
                row.ratio.median,
                row.ratio.p25,
                row.ratio.p75
            );
        }
    }
    out
}
