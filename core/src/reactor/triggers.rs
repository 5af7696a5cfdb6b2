//! System event triggers: Twisted's three-phase events, `startup`,
//! `shutdown` and any other an application fires.
//!
//! Firing an event runs its `Before` triggers; a trigger may return a
//! Deferred, and the `During` and `After` triggers wait until every such
//! Deferred has fired. Triggers run as calls of the reactor's turn, one at a
//! time, so the playground can step through them.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use super::Reactor;
use crate::defer::Deferred;
use crate::trace::{SystemEvent, TraceEvent, TriggerPhase};

/// A system event trigger. Return `Some(deferred)` from a `Before` trigger to
/// make the event wait for it (shutdown waits, for instance, for connections
/// to drain).
pub type Trigger = Box<dyn FnOnce(&Reactor) -> Option<Deferred<()>>>;

/// Identifies a trigger for [`Reactor::remove_system_event_trigger`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TriggerId(pub(crate) u64);

#[derive(Default)]
struct Phases {
    before: Vec<(TriggerId, Trigger)>,
    during: Vec<(TriggerId, Trigger)>,
    after: Vec<(TriggerId, Trigger)>,
    /// Deferreds returned by `Before` triggers that have not fired yet.
    waiting: usize,
    /// All `Before` triggers have run.
    before_done: bool,
}

impl Phases {
    fn list(&mut self, phase: TriggerPhase) -> &mut Vec<(TriggerId, Trigger)> {
        match phase {
            TriggerPhase::Before => &mut self.before,
            TriggerPhase::During => &mut self.during,
            TriggerPhase::After => &mut self.after,
        }
    }
}

/// Work the turn runs before its inbox batch and timers.
pub(crate) enum Ready {
    Trigger { event: SystemEvent, phase: TriggerPhase, trigger: Trigger },
    PhaseEnd { event: SystemEvent, phase: TriggerPhase },
}

#[derive(Default)]
pub(crate) struct SystemEvents {
    startup: Phases,
    shutdown: Phases,
    named: HashMap<Cow<'static, str>, Phases>,
    next_id: u64,
}

impl SystemEvents {
    fn phases(&mut self, event: &SystemEvent) -> &mut Phases {
        match event {
            SystemEvent::Startup => &mut self.startup,
            SystemEvent::Shutdown => &mut self.shutdown,
            SystemEvent::Named(name) => self.named.entry(name.clone()).or_default(),
        }
    }

    pub(crate) fn add(&mut self, event: &SystemEvent, phase: TriggerPhase, trigger: Trigger) -> TriggerId {
        self.next_id += 1;
        let id = TriggerId(self.next_id);
        self.phases(event).list(phase).push((id, trigger));
        id
    }

    pub(crate) fn remove(&mut self, id: TriggerId) -> bool {
        let all = [&mut self.startup, &mut self.shutdown].into_iter().chain(self.named.values_mut());
        for phases in all {
            for list in [&mut phases.before, &mut phases.during, &mut phases.after] {
                if let Some(at) = list.iter().position(|(t, _)| *t == id) {
                    drop(list.remove(at));
                    return true;
                }
            }
        }
        false
    }

    /// Starts firing `event`: queues its `Before` triggers.
    pub(crate) fn fire(&mut self, event: &SystemEvent, ready: &mut VecDeque<Ready>) -> u32 {
        let phases = self.phases(event);
        phases.waiting = 0;
        phases.before_done = false;
        queue_phase(phases, event, TriggerPhase::Before, ready)
    }

    /// A `Before` trigger returned a Deferred that has not fired yet.
    pub(crate) fn wait_for_one(&mut self, event: &SystemEvent) {
        self.phases(event).waiting += 1;
    }

    /// Either a waited-for Deferred fired or the `Before` phase ended; if both
    /// conditions now hold, queues the `During` and `After` triggers.
    pub(crate) fn progress(
        &mut self,
        event: &SystemEvent,
        deferred_fired: bool,
        ready: &mut VecDeque<Ready>,
    ) -> Option<u32> {
        let phases = self.phases(event);
        if deferred_fired {
            phases.waiting -= 1;
        } else {
            phases.before_done = true;
        }
        if !phases.before_done || phases.waiting > 0 {
            return None;
        }
        phases.before_done = false;
        let n = queue_phase(phases, event, TriggerPhase::During, ready);
        Some(n + queue_phase(phases, event, TriggerPhase::After, ready))
    }
}

fn queue_phase(phases: &mut Phases, event: &SystemEvent, phase: TriggerPhase, ready: &mut VecDeque<Ready>) -> u32 {
    let triggers = std::mem::take(phases.list(phase));
    let n = triggers.len() as u32;
    ready.extend(triggers.into_iter().map(|(_, trigger)| Ready::Trigger { event: event.clone(), phase, trigger }));
    ready.push_back(Ready::PhaseEnd { event: event.clone(), phase });
    n
}

impl Reactor {
    /// Runs one trigger; a pending Deferred it returns holds back the next phases.
    pub(crate) fn run_trigger(&self, event: SystemEvent, phase: TriggerPhase, trigger: Trigger) {
        let mut returned = None;
        let name: Cow<'static, str> = match (&event, phase) {
            (SystemEvent::Startup, TriggerPhase::After) => "startup trigger (after; call_when_running)".into(),
            (SystemEvent::Startup, _) => "startup trigger".into(),
            (SystemEvent::Shutdown, _) => "shutdown trigger".into(),
            (SystemEvent::Named(name), _) => format!("{name} trigger").into(),
        };
        self.run_call(crate::trace::CallSource::Trigger, 0, name, || {
            returned = trigger(self);
        });
        let Some(deferred) = returned else { return };
        if phase != TriggerPhase::Before {
            return; // as in Twisted, only `Before` triggers can make an event wait
        }
        self.inner.events.borrow_mut().wait_for_one(&event);
        let reactor = self.downgrade();
        deferred.add_both(move |result| {
            if let Some(reactor) = reactor.upgrade() {
                reactor.advance_event(event.clone(), true);
            }
            // The trigger's failure is reported by the reactor, not left unhandled.
            if let Err(failure) = &result {
                tracing::error!("system event trigger failed: {failure}");
            }
            Ok(())
        });
    }

    pub(crate) fn advance_event(&self, event: SystemEvent, deferred_fired: bool) {
        let queued = {
            let mut turn = self.inner.turn.borrow_mut();
            self.inner.events.borrow_mut().progress(&event, deferred_fired, &mut turn.ready)
        };
        if let Some(triggers) = queued {
            if event == SystemEvent::Startup && self.inner.lifecycle.get() == super::Lifecycle::Starting {
                // Twisted's `_reallyStartRunning`, the first during-startup trigger.
                self.inner.lifecycle.set(super::Lifecycle::Running);
            }
            let shutdown = event == SystemEvent::Shutdown;
            self.emit(|| TraceEvent::SystemEventPhase { event, phase: TriggerPhase::During, triggers });
            if shutdown {
                // Twisted's `disconnectAll`, a during-shutdown trigger the
                // reactor adds when it is built: before the program's own.
                self.disconnect_all();
            }
        }
    }
}
