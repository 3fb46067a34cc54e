//! Fuzz runner: generates and mutates scenario text, parses every input and
//! simulates a share of the valid ones, and counts what went wrong.
//!
//!     cargo run --release --example fuzz -- --cases 1000000
//!
//! Flags: `--cases N` (default 10,000), `--seed S` (default 1), `--simulate-every K`
//! (simulate one valid input in K, default 10; 1 simulates all), `--replications R`
//! (per simulated input, default 3), `--budget-s T` (time a simulated input may
//! take before it counts as slow, default 20), `--hang-s H` (time after which it
//! counts as a hang, default 300), `--save DIR` (where failing inputs are
//! written, default `fuzz-failures/`, only if there are any).
//!
//! It counts inputs, inputs refused (bad input) and accepted, simulations run,
//! panics (caught with catch_unwind, in parsing or simulating), slow
//! simulations (over the budget), hangs (over the hang limit; the runner
//! stops after 3, since a hung thread cannot be stopped), broken invariants
//! on outcomes (see cases.rs), and error messages that name no line. Exit
//! code 1 when there was a panic, a hang, a broken invariant or a message
//! without a line.

mod cases;

use cutover::experiment;
use cutover::scenario::Scenario;
use rand::SeedableRng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Options {
    cases: u64,
    seed: u64,
    simulate_every: u64,
    replications: u64,
    budget: Duration,
    hang: Duration,
    save: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        cases: 10_000,
        seed: 1,
        simulate_every: 10,
        replications: 3,
        budget: Duration::from_secs(20),
        hang: Duration::from_secs(300),
        save: PathBuf::from("fuzz-failures"),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let n = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--cases" => o.cases = n()?,
            "--seed" => o.seed = n()?,
            "--simulate-every" => o.simulate_every = n()?.max(1),
            "--replications" => o.replications = n()?.max(1),
            "--budget-s" => o.budget = Duration::from_secs(n()?),
            "--hang-s" => o.hang = Duration::from_secs(n()?),
            "--save" => o.save = PathBuf::from(value),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(o)
}

#[derive(Default)]
struct Tally {
    inputs: u64,
    refused: u64,
    accepted: u64,
    simulated: u64,
    outcomes: u64,
    panics: u64,
    slow: u64,
    hangs: u64,
    broken_invariants: u64,
    messages_without_line: u64,
    messages_without_key: u64,
    slowest_simulation: Duration,
}

const FILE: &str = "fuzzed.toml";

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    // Panics are counted, not printed as they happen.
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let mut t = Tally::default();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut rng = cases::Rng::seed_from_u64(o.seed);
    for case in 0..o.cases {
        if case > 0 && case % 100_000 == 0 {
            eprintln!("{case} inputs, {:.0} s", started.elapsed().as_secs_f64());
        }
        let text = cases::input(&mut rng);
        t.inputs += 1;
        let parsed = catch_unwind(|| Scenario::parse(&text, Path::new(FILE)));
        let scenario = match parsed {
            Err(_) => {
                t.panics += 1;
                failures.push((format!("panic-parse-{case}"), text));
                continue;
            }
            Ok(Err(e)) => {
                t.refused += 1;
                if matches!(&e, cutover::Error::Input { key: None, .. }) {
                    t.messages_without_key += 1;
                }
                if cases::message_fault(&e, FILE).is_some() {
                    t.messages_without_line += 1;
                    if t.messages_without_line <= 20 {
                        failures.push((format!("message-{case}"), format!("# {e}\n{text}")));
                    }
                }
                continue;
            }
            Ok(Ok(s)) => s,
        };
        t.accepted += 1;
        if !t.accepted.is_multiple_of(o.simulate_every) {
            continue;
        }
        t.simulated += 1;
        let seed = case;
        let replications = o.replications;
        let (send, receive) = mpsc::channel();
        let sim_started = Instant::now();
        let worker = std::thread::spawn({
            let scenario = scenario.clone();
            move || {
                let result = catch_unwind(AssertUnwindSafe(|| {
                    let settings = experiment::Settings {
                        replications,
                        seed,
                        threads: 1,
                    };
                    experiment::run(&scenario, settings)
                }));
                let _ = send.send(result);
            }
        });
        let mut received = receive.recv_timeout(o.budget);
        if received.is_err() {
            t.slow += 1;
            if t.slow <= 20 {
                failures.push((format!("slow-{case}"), text.clone()));
            }
            received = receive.recv_timeout(o.hang.saturating_sub(o.budget));
        }
        match received {
            Err(_) => {
                t.hangs += 1;
                failures.push((format!("hang-{case}"), text));
                if t.hangs >= 3 {
                    eprintln!("3 hangs: stopping (a hung thread cannot be stopped)");
                    break;
                }
                // The worker is left running; it is not joined.
                continue;
            }
            Ok(Err(_)) => {
                t.panics += 1;
                failures.push((format!("panic-simulate-{case}"), text));
            }
            Ok(Ok(Err(e))) => {
                t.panics += 1;
                failures.push((format!("error-simulate-{case}"), format!("# {e}\n{text}")));
            }
            Ok(Ok(Ok(results))) => {
                for row in &results.outcomes {
                    for outcome in row {
                        t.outcomes += 1;
                        if let Err(why) = cases::check(&scenario, outcome) {
                            t.broken_invariants += 1;
                            if t.broken_invariants <= 20 {
                                failures.push((
                                    format!("invariant-{case}"),
                                    format!("# {why}\n{text}"),
                                ));
                            }
                        }
                    }
                }
            }
        }
        let _ = worker.join();
        t.slowest_simulation = t.slowest_simulation.max(sim_started.elapsed());
    }
    let took = started.elapsed();
    println!(
        "inputs {}  refused {}  accepted {}  simulated {} ({} outcomes, {} replications each)\n\
         panics {}  slow {} (over {} s)  hangs {} (over {} s)  broken invariants {}  messages without a line {} (without a key {})\n\
         time {:.1} s ({:.0} inputs/s), slowest simulation {:.2} s, seed {}",
        t.inputs,
        t.refused,
        t.accepted,
        t.simulated,
        t.outcomes,
        o.replications,
        t.panics,
        t.slow,
        o.budget.as_secs(),
        t.hangs,
        o.hang.as_secs(),
        t.broken_invariants,
        t.messages_without_line,
        t.messages_without_key,
        took.as_secs_f64(),
        t.inputs as f64 / took.as_secs_f64(),
        t.slowest_simulation.as_secs_f64(),
        o.seed,
    );
    let failed = t.panics + t.hangs + t.broken_invariants + t.messages_without_line > 0;
    if !failures.is_empty() {
        let _ = std::fs::create_dir_all(&o.save);
        for (name, text) in &failures {
            let _ = std::fs::write(o.save.join(format!("{name}.toml")), text);
        }
        println!(
            "{} failing inputs written to {}",
            failures.len(),
            o.save.display()
        );
    }
    if failed {
        std::process::exit(1);
    }
}
