//! The people around a release, beside the tools: the engineer who approves
//! a paused rollout or resumes it, the one who acts on a progress deadline a
//! Kubernetes Deployment only reports, and everyone who notices a defect no
//! judge caught (users' reports, dashboards, a later alert). Each acts after
//! a drawn delay, from its own random stream, so a strategy that waits for
//! people more often never shifts another component's draws.

use crate::engine::{Schedule, SimTime};
use crate::stats::Spread;
use rand_chacha::ChaCha8Rng;

/// What the people do, as events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeopleEvent {
    /// A person answered the strategy's wait `tag` (a pause without a
    /// duration, a promotion that needs approval).
    Answered(u32),
    /// A person acts on a reported progress deadline and rolls back.
    ActsOnDeadline,
    /// People notice the defect without the judge and roll back.
    Noticed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeopleParams {
    /// Time from a page or a request for approval to the person acting.
    pub human_response_s: Spread,
    /// Time from a defect's first failed request to people noticing it
    /// without the judge.
    pub unwatched_detection_s: Spread,
}

pub struct People {
    params: PeopleParams,
    approval_rng: ChaCha8Rng,
    notice_rng: ChaCha8Rng,
    /// When people will notice the defect, once it has failed a request.
    noticing: Option<SimTime>,
}

impl People {
    pub fn new(params: PeopleParams, approval_rng: ChaCha8Rng, notice_rng: ChaCha8Rng) -> People {
        People {
            params,
            approval_rng,
            notice_rng,
            noticing: None,
        }
    }

    fn response(&mut self) -> SimTime {
        SimTime::from_secs_f64(self.params.human_response_s.sample(&mut self.approval_rng))
    }

    /// A strategy waits for a person; they answer after their response time.
    pub fn ask(&mut self, tag: u32, q: &mut impl Schedule<PeopleEvent>) {
        let after = self.response();
        q.after(after, PeopleEvent::Answered(tag));
    }

    /// A progress deadline was reported; a person acts after their response time.
    pub fn report_deadline(&mut self, q: &mut impl Schedule<PeopleEvent>) {
        let after = self.response();
        q.after(after, PeopleEvent::ActsOnDeadline);
    }

    /// Defective code served users from `from` on: the first time, people
    /// start noticing, a drawn delay after it (not before the present).
    pub fn defect_hurt(&mut self, from: SimTime, q: &mut impl Schedule<PeopleEvent>) {
        if self.noticing.is_none() {
            let after = self
                .params
                .unwatched_detection_s
                .sample(&mut self.notice_rng);
            let at = (from + SimTime::from_secs_f64(after)).max(q.now());
            self.noticing = Some(at);
            q.at(at, PeopleEvent::Noticed);
        }
    }

    /// People have yet to notice a defect that has failed requests.
    pub fn will_notice(&self, now: SimTime) -> bool {
        self.noticing.is_some_and(|at| at > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EventQueue, Purpose, stream};

    fn people() -> People {
        People::new(
            PeopleParams {
                human_response_s: Spread::fixed(300.0),
                unwatched_detection_s: Spread::fixed(3600.0),
            },
            stream(1, 0, Purpose::Approval),
            stream(1, 0, Purpose::Noticed),
        )
    }

    #[test]
    fn people_notice_once_after_the_first_failure() {
        let mut p = people();
        let mut q: EventQueue<PeopleEvent> = EventQueue::new();
        p.defect_hurt(SimTime::from_secs(100), &mut q);
        p.defect_hurt(SimTime::from_secs(200), &mut q);
        assert!(p.will_notice(SimTime::from_secs(3699)));
        assert!(!p.will_notice(SimTime::from_secs(3700)));
        assert_eq!(
            q.pop(),
            Some((SimTime::from_secs(3700), PeopleEvent::Noticed))
        );
        assert!(q.is_empty(), "noticed once");
    }

    #[test]
    fn a_person_answers_after_the_response_time() {
        let mut p = people();
        let mut q: EventQueue<PeopleEvent> = EventQueue::new();
        p.ask(7, &mut q);
        p.report_deadline(&mut q);
        assert_eq!(
            q.pop(),
            Some((SimTime::from_secs(300), PeopleEvent::Answered(7)))
        );
        assert_eq!(
            q.pop(),
            Some((SimTime::from_secs(300), PeopleEvent::ActsOnDeadline))
        );
    }
}
