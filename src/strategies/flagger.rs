//! Flagger (fluxcd/flagger), as its control loop runs it: read in
//! `pkg/controller/scheduler.go` (`advanceCanary`, `runCanary`,
//! `nextStepWeight`, `maxWeight`, `runBlueGreen`, `runPromotionTrafficShift`,
//! `rollback`), `pkg/canary/deployment_controller.go` (`ScaleFromZero`) and
//! `docs/gitbook/usage/deployment-strategies.md`.
//!
//! * A new revision scales the canary deployment up to the primary's size
//!   (`ScaleFromZero`: the target's replicas, else the primary's): a full
//!   second copy of the service for the whole release.
//! * The analysis starts once every canary instance is ready. Canary mode:
//!   the weight goes to the first step at that moment (Flagger's first tick
//!   with the canary ready, "Starting canary analysis", runs no metric check),
//!   and from then on each check (every `monitoring.interval_s`) decides.
//! * A check that passes advances the weight by one step (`stepWeight`, or the
//!   next of `stepWeights`), capped at 100, while the weight is below
//!   `maxWeight` (default 100: `maxWeight()` returns the total weight when it
//!   is unset); a passing check at or above it promotes. A failed check
//!   increments `failedChecks` and returns: the weight does not rise ("halt
//!   advancement"). A check without data neither advances nor fails, unless
//!   the judge sets `no_data_fails`. `threshold` failed checks roll back; the
//!   judge counts them and the monitor decides.
//! * To tell a failed check from a passing one the controller reads the
//!   analysis's failed checks in its [`View`] (`failed_checks`, Flagger's
//!   `status.failedChecks`): the verdict is Healthy until the threshold.
//! * Blue/green mode (`iterations`): the canary takes no user traffic while
//!   `iterations` checks pass on load-test traffic (the docs' load-test
//!   webhook, `hey -z 1m -q 10 -c 2` against the canary service: 20 rps);
//!   then Flagger routes all traffic to the canary and runs one more round of
//!   checks, on users now, before promoting (`runBlueGreen`). With the
//!   Kubernetes provider there is no routing: one more load-test round, and
//!   users reach the new version only through the primary's rolling update.
//! * Promotion copies the canary's spec to the primary: the primary's pods
//!   are replaced by a Kubernetes rolling update (25% surge, 25%
//!   unavailable, the Deployment defaults), while the router keeps the last
//!   weights, so the primary's share is spread over its old and new pods as
//!   they roll. Each step waits for the next tick of the loop: the tick after
//!   the primary is ready routes all traffic to the primary (new now, so the
//!   share on the new version does not move) and sets Finalising; the next
//!   scales the canary to zero. Promoting runs no checks. The world cannot
//!   tell the idle canary pods from the primary's new pods (both are the new
//!   version): without a preStop sleep covering the endpoint propagation, the
//!   canary's scale-down drops the share of requests spread over its pods
//!   while they are delisted, about rate × ½ × `endpoint_propagation_s`,
//!   where Flagger's canary receives nothing by then.
//! * A rollback routes all traffic back to the primary and scales the canary
//!   to zero in the same reconcile: the requests the routers still send the
//!   canary while the change propagates reach terminating pods, and fail
//!   unless a preStop sleep covers the propagation (Flagger's docs advise
//!   one). The rollback is complete once the route change has settled.
//! * Once the primary has taken the new spec (promoting or promoted) a
//!   rollback needs a new revision of the old spec, which Flagger would run
//!   through its own analysis, or promote straight through the primary's
//!   rolling update with `skipAnalysis`. Modelled as the fastest path: the
//!   old version at full size, then every request moved back in one change,
//!   so its rollback time is a lower bound of Flagger's.
//! * `progressDeadlineSeconds` (default 600 s, `monitoring.progress_deadline_s`
//!   here): a canary or primary that makes no progress by then is rolled back
//!   (`IsCanaryReady`/`IsPrimaryReady` report it as not retriable).
//!
//! The control loop's tick is the analysis interval: the controller takes
//! it from the time its first check arrives after the analysis starts
//! (Flagger's 60 s default until then). With monitoring off, or once a judge
//! has completed, no checks arrive: every tick then passes, as Flagger's
//! `runAnalysis` does without metrics.

use super::rolling::{IntOrPercent, Step, resolve_fenceposts, sync};
use super::routing_keys::SwitchKeys;
use super::timer::Timer;
use super::{
    Action, AnalysisRun, Counts, Environment, Observation, Route, Strategy, StrategyConfig,
    Version, View, operations,
};
use crate::engine::SimTime;
use crate::world::judge::Verdict;

mod keys;
pub use keys::{parse, stepped_weights};

/// Flagger's default `analysis.interval`: the loop's tick until a check
/// arrives.
const DEFAULT_INTERVAL: SimTime = SimTime(60_000);

/// How Flagger moves traffic to the release.
#[derive(Debug, Clone, PartialEq)]
pub enum Analysis {
    /// Progressive traffic: the canary weights a passing check moves
    /// through, the last one at or above `maxWeight`.
    Canary { weights: Vec<u32> },
    /// Blue/green: `iterations` checks on load-test traffic against the
    /// canary, which takes no user traffic until promotion.
    BlueGreen { iterations: u32, load_test_rps: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// A service mesh or an ingress controller: weighted routing between the
    /// primary and canary services.
    Router,
    /// Kubernetes CNI (`provider: kubernetes`): the service selects the
    /// primary's pods only; blue/green only.
    Kubernetes,
}

#[derive(Debug, Clone)]
pub struct FlaggerConfig {
    pub analysis: Analysis,
    pub provider: Provider,
    pub switch: SwitchKeys,
}

impl StrategyConfig for FlaggerConfig {
    fn kind(&self) -> &'static str {
        "flagger"
    }
    fn controller(&self, replicas: u32) -> Box<dyn Strategy> {
        // The primary Deployment copies the target's update strategy
        // (deployment_controller.go createPrimaryDeployment): Kubernetes
        // RollingUpdate defaults, 25% surge and 25% unavailable.
        let (surge, unavailable) = resolve_fenceposts(
            IntOrPercent::Percent(25.0),
            IntOrPercent::Percent(25.0),
            replicas,
        );
        Box::new(Flagger {
            config: self.clone(),
            replicas,
            surge,
            unavailable,
            phase: Phase::Scaling,
            step: 0,
            failed_checks: 0,
            interval: DEFAULT_INTERVAL,
            interval_known: false,
            last_check: SimTime::ZERO,
            unjudged: false,
            timer: Timer::default(),
            canary_share: 0.0,
            routed: 0.0,
        })
    }
    fn environment(&self) -> Environment {
        Environment {
            // The apex service sends everything to the primary until the
            // analysis starts.
            initial_route: Route::Weight(0.0),
            routing: self.switch.clone(),
            // A full-size canary beside the primary: a second environment's
            // worth of instances during every release.
            duplicate_environment: true,
            extra_capacity: "full-size canary capacity",
            // progressDeadlineSeconds rolls the canary back (scheduler.go).
            progress_deadline_abort: true,
            // Flagger shifts weights through a mesh or an ingress it drives.
            operations_usd_per_month: operations::CONTROLLER_USD_PER_MONTH
                + operations::TRAFFIC_ROUTER_USD_PER_MONTH,
            ..Environment::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The canary is scaling up to full size; the primary serves everything.
    Scaling,
    /// The analysis runs: canary at a weight, or blue/green iterations.
    Progressing,
    /// Blue/green after its iterations: the last round of checks, on users
    /// when a router sent them to the canary.
    LastRound,
    /// The primary's rolling update to the new spec; the weights stay.
    Promoting,
    /// All traffic is on the primary; the canary goes at the next tick.
    Finalising,
    Promoted,
    /// Traffic is going back to the primary; the canary goes once it has.
    RoutingBack,
    /// The old version is being deployed again at full size.
    Redeploying,
    RolledBack,
}

pub struct Flagger {
    config: FlaggerConfig,
    replicas: u32,
    /// The primary's rolling update (maxSurge, maxUnavailable resolved).
    surge: u32,
    unavailable: u32,
    phase: Phase,
    /// Canary: index of the current weight; blue/green: iterations passed.
    step: usize,
    /// The view's failed checks at the last check.
    failed_checks: u32,
    /// The control loop's tick.
    interval: SimTime,
    interval_known: bool,
    /// When the analysis started, then when the last check arrived.
    last_check: SimTime,
    /// No checks will arrive (monitoring off, or the judge completed): the
    /// loop's own ticks pass.
    unjudged: bool,
    timer: Timer,
    /// The share the router gives the canary service (Flagger canaryWeight).
    canary_share: f64,
    /// The share on the new version last asked of the router.
    routed: f64,
}

impl Flagger {
    fn canary_ready(&mut self, now: SimTime) -> Vec<Action> {
        self.phase = Phase::Progressing;
        self.last_check = now;
        match &self.config.analysis {
            Analysis::Canary { weights } => {
                let first = weights[0];
                vec![
                    self.route_canary(first),
                    Action::StartAnalysis(AnalysisRun::ON_USERS),
                ]
            }
            Analysis::BlueGreen { load_test_rps, .. } => {
                vec![Action::StartAnalysis(AnalysisRun {
                    initial_delay: SimTime::ZERO,
                    synthetic_rps: Some(*load_test_rps),
                })]
            }
        }
    }

    fn route_canary(&mut self, weight_pct: u32) -> Action {
        self.canary_share = weight_pct as f64 / 100.0;
        self.routed = self.canary_share;
        Action::Route(Route::Weight(self.canary_share))
    }

    /// One check of the analysis.
    fn checked(&mut self, verdict: Verdict, view: &View) -> Vec<Action> {
        if !self.interval_known && view.now > self.last_check {
            self.interval = view.now - self.last_check;
            self.interval_known = true;
        }
        self.last_check = view.now;
        let failed = view.failed_checks > self.failed_checks;
        self.failed_checks = view.failed_checks;
        match verdict {
            Verdict::Healthy if !failed => self.passed(view),
            // A failed check below the threshold halts advancement; no data
            // holds too; Failed is the monitor's rollback decision.
            _ => vec![],
        }
    }

    /// A check passed (or a tick without checks): advance one step.
    fn passed(&mut self, view: &View) -> Vec<Action> {
        match (&self.config.analysis, self.phase) {
            (Analysis::Canary { weights }, Phase::Progressing) => {
                if self.step + 1 < weights.len() {
                    self.step += 1;
                    let next = weights[self.step];
                    vec![self.route_canary(next)]
                } else {
                    self.promote(view)
                }
            }
            (Analysis::BlueGreen { iterations, .. }, Phase::Progressing) => {
                self.step += 1;
                if self.step < *iterations as usize {
                    vec![]
                } else {
                    self.last_round()
                }
            }
            (Analysis::BlueGreen { .. }, Phase::LastRound) => self.promote(view),
            _ => vec![],
        }
    }

    /// Blue/green after the iterations: with a router, all traffic to the
    /// canary and the checks on users (a new analysis run: the load-test
    /// run's failed checks do not carry over, where Flagger's would); with
    /// the Kubernetes provider, one more round on the load test.
    fn last_round(&mut self) -> Vec<Action> {
        self.phase = Phase::LastRound;
        if self.config.provider == Provider::Kubernetes {
            return vec![];
        }
        self.canary_share = 1.0;
        self.routed = 1.0;
        self.failed_checks = 0;
        self.unjudged = false;
        self.timer.cancel();
        vec![
            Action::Route(Route::All(Version::New)),
            Action::StartAnalysis(AnalysisRun::ON_USERS),
        ]
    }

    /// Copy the canary spec to the primary: its rolling update starts, the
    /// analysis ends, and the loop looks again at its next tick.
    fn promote(&mut self, view: &View) -> Vec<Action> {
        self.phase = Phase::Promoting;
        let mut actions = vec![Action::StopAnalysis];
        actions.extend(self.roll_primary(view));
        actions.push(self.timer.start(self.interval));
        actions
    }

    /// The primary's own new-version pods: every new instance beyond the
    /// canary's, which stays at full size and ready.
    fn primary_new(&self, view: &View) -> Counts {
        Counts {
            spec: view.new.spec.saturating_sub(self.replicas),
            ready: view.new.ready.saturating_sub(self.replicas),
            available: view.new.available.saturating_sub(self.replicas),
        }
    }

    fn primary_ready(&self, view: &View) -> bool {
        view.old.spec == 0 && self.primary_new(view).available >= self.replicas
    }

    /// Syncs of the primary's rolling update, and the share its rolling
    /// moves to the new version: the canary keeps its weight, and the
    /// primary's share is spread over its ready pods, old and new.
    fn roll_primary(&mut self, view: &View) -> Vec<Action> {
        let before = self.primary_new(view);
        let (target, source) = primary_rollout(
            self.replicas,
            self.surge,
            self.unavailable,
            before,
            view.old,
        );
        // The syncs of one instant as their end state, the old pods' first:
        // the primary never holds more than replicas + surge pods, as in
        // Kubernetes, where each sync scales one ReplicaSet.
        let mut actions = Vec::new();
        if source.spec != view.old.spec {
            actions.push(Action::Scale {
                version: Version::Old,
                replicas: source.spec,
            });
        }
        if target.spec != before.spec {
            actions.push(Action::Scale {
                version: Version::New,
                replicas: self.replicas + target.spec,
            });
        }
        let primary_pods = target.ready + source.ready;
        if primary_pods > 0 {
            let on_new = target.ready as f64 / primary_pods as f64;
            let share = self.canary_share + (1.0 - self.canary_share) * on_new;
            if (share - self.routed).abs() > 1e-9 {
                self.routed = share;
                actions.push(Action::Route(Route::Weight(share)));
            }
        }
        actions
    }

    /// The loop's tick while promoting: routes all traffic to the primary
    /// once its rollout has finished (the primary runs the new version, so
    /// the share on it does not move), then scales the canary to zero.
    fn promotion_tick(&mut self, view: &View) -> Vec<Action> {
        match self.phase {
            Phase::Promoting if self.primary_ready(view) => {
                self.phase = Phase::Finalising;
                vec![self.timer.start(self.interval)]
            }
            Phase::Promoting => vec![self.timer.start(self.interval)],
            _ => {
                self.phase = Phase::Promoted;
                vec![
                    Action::Scale {
                        version: Version::New,
                        replicas: self.replicas,
                    },
                    Action::Promoted,
                ]
            }
        }
    }

    fn roll_back(&mut self, view: &View) -> Vec<Action> {
        self.timer.cancel();
        match self.phase {
            Phase::Promoting | Phase::Finalising | Phase::Promoted => {
                self.phase = Phase::Redeploying;
                let mut actions = vec![Action::Scale {
                    version: Version::Old,
                    replicas: self.replicas,
                }];
                if view.old.ready >= self.replicas {
                    actions.extend(self.route_back());
                }
                actions
            }
            _ if self.routed > 0.0 => {
                let mut actions = self.route_back();
                actions.push(Self::canary_to_zero());
                actions
            }
            // The canary never took user traffic: scaling it down is the
            // whole rollback.
            _ => {
                self.phase = Phase::RolledBack;
                vec![Self::canary_to_zero(), Action::RolledBack]
            }
        }
    }

    fn route_back(&mut self) -> Vec<Action> {
        self.phase = Phase::RoutingBack;
        self.canary_share = 0.0;
        self.routed = 0.0;
        vec![Action::Route(Route::Weight(0.0))]
    }

    /// Every request is back on the old version: done, and the new version
    /// goes if it has not yet (the redeploy keeps it until the route settles).
    fn routed_back(&mut self, view: &View) -> Vec<Action> {
        self.phase = Phase::RolledBack;
        let mut actions = Vec::new();
        if view.new.spec > 0 {
            actions.push(Self::canary_to_zero());
        }
        actions.push(Action::RolledBack);
        actions
    }

    fn canary_to_zero() -> Action {
        Action::Scale {
            version: Version::New,
            replicas: 0,
        }
    }
}

/// Runs the deployment controller's syncs of the primary's rolling update
/// until nothing changes (as `rolling.rs` does): returns the new pods'
/// counts and the old pods' counts after them.
fn primary_rollout(
    replicas: u32,
    surge: u32,
    unavailable: u32,
    mut target: Counts,
    mut source: Counts,
) -> (Counts, Counts) {
    while let Some(step) = sync(replicas, surge, unavailable, target, source) {
        match step {
            Step::Target(n) => target.spec = n,
            Step::Source(n) => {
                // The fleet removes unavailable instances before available ones.
                let removed = source.spec - n;
                let unavailable_now = source.spec - source.available.min(source.spec);
                source.available =
                    source.available.min(source.spec) - removed.saturating_sub(unavailable_now);
                source.ready = source.ready.min(n);
                source.spec = n;
            }
        }
    }
    (target, source)
}

impl Strategy for Flagger {
    fn on(&mut self, observation: &Observation, view: &View) -> Vec<Action> {
        use Observation as O;
        use Phase as P;
        match (self.phase, observation) {
            (P::Scaling, O::Start) => vec![Action::Scale {
                version: Version::New,
                replicas: self.replicas,
            }],
            (P::Scaling, O::Ready(Version::New)) if view.new.ready >= self.replicas => {
                self.canary_ready(view.now)
            }
            (P::Progressing | P::LastRound, O::Verdict(verdict)) => self.checked(*verdict, view),
            (P::Progressing | P::LastRound, O::AnalysisSucceeded) if !self.unjudged => {
                self.unjudged = true;
                vec![self.timer.start(self.interval)]
            }
            (P::Progressing | P::LastRound, O::Timer(tag))
                if self.unjudged && self.timer.fired(*tag) =>
            {
                let mut actions = self.passed(view);
                if matches!(self.phase, P::Progressing | P::LastRound) && self.unjudged {
                    actions.push(self.timer.start(self.interval));
                }
                actions
            }
            // Readiness and availability coincide here (no min_ready_s), so
            // one sync per instance: endpoints and the rollout move together.
            (P::Promoting, O::Available(Version::New)) => self.roll_primary(view),
            (P::Promoting | P::Finalising, O::Timer(tag)) if self.timer.fired(*tag) => {
                self.promotion_tick(view)
            }
            (P::RoutingBack | P::Redeploying | P::RolledBack, O::RollbackDecided) => vec![],
            (_, O::RollbackDecided) => self.roll_back(view),
            (P::Redeploying, O::Ready(Version::Old)) if view.old.ready >= self.replicas => {
                self.route_back()
            }
            (P::RoutingBack, O::RouteSettled) => self.routed_back(view),
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests;
