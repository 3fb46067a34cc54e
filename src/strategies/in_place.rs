//! In-place: every instance is replaced at once. The baseline the other
//! strategies exist to beat: a defect reaches every user, nothing serves while
//! the new instances start, and rollback is a redeploy of the old version.

use super::{
    Action, AnalysisRun, Environment, Observation, Strategy, StrategyConfig, Version, View,
};
use crate::error::Result;
use crate::input::KeyReader;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct InPlaceConfig;

pub fn parse(keys: &mut KeyReader, _replicas: u32) -> Result<Arc<dyn StrategyConfig>> {
    keys.finish("in-place", &[])?;
    Ok(Arc::new(InPlaceConfig))
}

impl StrategyConfig for InPlaceConfig {
    fn kind(&self) -> &'static str {
        "in-place"
    }
    fn controller(&self, replicas: u32) -> Box<dyn Strategy> {
        Box::new(InPlace {
            replicas,
            target: Version::New,
            done: false,
        })
    }
    fn environment(&self) -> Environment {
        Environment::default()
    }
}

pub struct InPlace {
    replicas: u32,
    /// The version being put in place: New, then Old after a rollback.
    target: Version,
    done: bool,
}

impl InPlace {
    fn replace_with(&mut self, target: Version) -> Vec<Action> {
        self.target = target;
        self.done = false;
        vec![
            Action::Scale {
                version: target.other(),
                replicas: 0,
            },
            Action::Scale {
                version: target,
                replicas: self.replicas,
            },
        ]
    }
}

impl Strategy for InPlace {
    fn on(&mut self, observation: &Observation, view: &View) -> Vec<Action> {
        match observation {
            // Kubernetes has no analysis: the team's alert watches from the start.
            Observation::Start => {
                let mut actions = vec![Action::StartAnalysis(AnalysisRun::ON_USERS)];
                actions.extend(self.replace_with(Version::New));
                actions
            }
            Observation::RollbackDecided => self.replace_with(Version::Old),
            Observation::Ready(_)
                if !self.done && view.counts(self.target).ready >= self.replicas =>
            {
                self.done = true;
                vec![match self.target {
                    Version::New => Action::Promoted,
                    Version::Old => Action::RolledBack,
                }]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::Counts;

    #[test]
    fn replaces_everything_then_promotes_when_all_ready() {
        let mut s = InPlaceConfig.controller(4);
        let mut view = View {
            replicas: 4,
            ..View::default()
        };
        let start = s.on(&Observation::Start, &view);
        assert_eq!(
            start,
            vec![
                Action::StartAnalysis(AnalysisRun::ON_USERS),
                Action::Scale {
                    version: Version::Old,
                    replicas: 0
                },
                Action::Scale {
                    version: Version::New,
                    replicas: 4
                }
            ]
        );
        view.new = Counts {
            spec: 4,
            ready: 3,
            available: 3,
        };
        assert!(s.on(&Observation::Ready(Version::New), &view).is_empty());
        view.new.ready = 4;
        assert_eq!(
            s.on(&Observation::Ready(Version::New), &view),
            vec![Action::Promoted]
        );
    }
}
