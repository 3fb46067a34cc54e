//! Benchmarks of the simulator: `cargo bench --bench simulate`.
//!
//! - `one_replication/STRATEGY/defective|healthy`: one simulated release of
//!   each strategy of the default scenario, facing a fixed defective release
//!   (traffic-only, 20% error rate) or a healthy one.
//! - `default_comparison/2000_replications`: the whole default comparison
//!   (`cutover compare` without its CSV and table), 2000 replications of every
//!   strategy on every core; its throughput is in replications per second.
//!
//! Quick run: `cargo bench --bench simulate -- --warm-up-time 1 --measurement-time 3`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cutover::experiment::{self, Settings};
use cutover::release::{Defect, Release};
use cutover::scenario::{DefectKind, Scenario};
use cutover::simulation;
use std::hint::black_box;

const SEED: u64 = 42;
const REPLICATIONS: u64 = 2000;

fn one_replication(c: &mut Criterion) {
    let scenario = Scenario::load(None).expect("the default scenario parses");
    let defective = Release::with_defect(Defect {
        kind: DefectKind::TrafficOnly,
        error_rate: 0.2,
        onset: None,
    });
    let healthy = Release::healthy();
    let mut group = c.benchmark_group("one_replication");
    for spec in &scenario.strategies {
        for (label, release) in [("defective", &defective), ("healthy", &healthy)] {
            group.bench_function(format!("{}/{label}", spec.name), |b| {
                b.iter(|| {
                    simulation::simulate(
                        black_box(&scenario),
                        black_box(spec),
                        black_box(release),
                        black_box(SEED),
                        black_box(0),
                    )
                })
            });
        }
    }
    group.finish();
}

fn default_comparison(c: &mut Criterion) {
    let scenario = Scenario::load(None).expect("the default scenario parses");
    let settings = Settings {
        replications: REPLICATIONS,
        seed: SEED,
        threads: 0,
    };
    let mut group = c.benchmark_group("default_comparison");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REPLICATIONS));
    group.bench_function(format!("{REPLICATIONS}_replications"), |b| {
        b.iter(|| experiment::run(black_box(&scenario), black_box(settings)).expect("runs"))
    });
    group.finish();
}

// Named after the bench target, so `cargo bench --bench simulate` runs exactly this group.
criterion_group!(simulate, one_replication, default_comparison);
criterion_main!(simulate);
