//! The discrete-event loop around the engine: arrivals, scheduling cycles, starts, completions,
//! preemptions with checkpoint and grace, service deletions and hourly demand changes, on a
//! virtual clock. Events at the same instant run in the order they were scheduled (a sequence
//! number breaks ties), so a run is a pure function of its inputs.
//!
//! Work: a training gang of `n` devices of a model with relative throughput `t` for its class does
//! `n × t × e` reference-device-hours per hour (`e`: 1.0 on one node, 0.95 in one interconnect
//! group, 0.85 across groups, as the engine assumes). When preempted it runs on through its grace
//! period, keeps the work up to its last checkpoint (every `interval` seconds since it started;
//! nothing without checkpoints), and once it has stopped waits again for the rest; the preemptor
//! starts when the grace ends. A service runs from its first start until `arrival + lifetime`, its
//! replicas following the hourly demand (scaling down releases replicas at once); its work is
//! device-hours × the throughput of the chip it was sized for (`SimJob::service_rate`). Cycles run
//! on the boundaries of the scenario's cycle interval when something changed, at most one per
//! boundary, as the controller runs at most once an interval.
//!
//! The engine's snapshot is kept from cycle to cycle: a job's workload is built when it arrives,
//! allocations when it binds, and a cycle only withdraws what left the queue (the engine passes
//! over a withdrawn workload; its slot is dropped later, with others), drops the allocations of
//! stopped replicas and refreshes what moves (replicas wanted this hour, work remaining, and the
//! last checkpoint of the runs whose checkpoint moved, found by when it moves) — the plan is the
//! same as a snapshot built afresh, at a fraction of the cost on large fleets. Jobs the engine
//! leaves pending with nothing held leave the queue: for good when no accelerator they accept is
//! in a cluster their tenant may use (no decision changes), otherwise parked until something they
//! wait for happens (`sim/parking.rs`: Kueue's requeueing of inadmissible workloads); they still
//! count as waiting in the report.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use rust_decimal::Decimal;
use tidepool_engine::mask::mask_of;
use tidepool_engine::{
    Accept, Allocation, CycleCache, ModelId, NodeId, PendingCause, Plan, Policy, Seconds, Snapshot, Target, UsageClass,
    Workload, WorkloadId, WorkloadKind, scaling_efficiency, schedule_on,
};

use crate::sim::allocations::AllocationIndex;
use crate::sim::chunked::Chunked;
use crate::sim::fleet::Fleet;
use crate::sim::job::{Accepted, SimJob};
use crate::sim::metrics::{Meter, Outcomes, Percentiles, PolicyReport, round3};
use crate::sim::occupancy::{Held, Occupancy};
use crate::sim::parking::Parking;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A training gang finishes, if it is still in run `epoch`.
    Finish { job: usize, epoch: u64 },
    /// A service's lifetime ends.
    Delete { job: usize },
    /// A new hour: services follow their demand; utilisation is sampled.
    Hour,
    /// A scheduling cycle.
    Cycle,
    /// A preempted job's grace has ended: it waits again (unless it has left meanwhile).
    Requeue { job: usize },
}

#[derive(Clone, Debug)]
struct Replica {
    replica: u32,
    node: NodeId,
    devices: Vec<u16>,
    model: ModelId,
    usage: UsageClass,
    since: i64,
}

#[derive(Clone, Debug, PartialEq)]
enum Status {
    Waiting,
    Running,
    /// Preempted and still in its grace period: out of the queue until it has stopped.
    Stopping,
    Done,
    Failed,
}

#[derive(Clone, Debug)]
struct Job {
    spec: SimJob,
    status: Status,
    first_start: Option<i64>,
    remaining: f64,
    replicas: Vec<Replica>,
    run_start: i64,
    rate: f64,
    epoch: u64,
    accepts: Vec<Accept>,
    /// The engine found no accelerator it accepts that its tenant may use: it waits to the end
    /// of the run, out of the engine's queue (see [`Run::park`]).
    unrunnable: bool,
    /// Parked (in this class): waiting out of the engine's queue until [`Parking`] wakes it.
    parked: Option<u32>,
    /// Its parking class, once known, when left pending for room and for quota alone.
    park_class: [Option<u32>; 2],
}

/// Runs one policy over a job stream (in arrival order) and reports what it measured.
pub struct Run<'a> {
    fleet: &'a Fleet,
    snapshot: Snapshot,
    /// What the engine keeps between cycles: the index of the snapshot's nodes, which do not
    /// change during a run, and of the work running.
    cache: CycleCache,
    /// Devices of each model in the fleet.
    devices_per_model: Vec<u32>,
    policy: Policy,
    cycle_seconds: i64,
    jobs: Chunked<Job>,
    /// Jobs waiting or running.
    active: usize,
    /// Services waiting or running, ascending: what hourly demand changes look at.
    services: BTreeSet<usize>,
    /// Devices of each model that replicas hold.
    allocated: Vec<u32>,
    /// `snapshot.workloads[k]` is job `slots[k]`, in job order. A job out of the queue keeps its
    /// slot, withdrawn: one that may come back (parked, stopping) for as long as it waits, one
    /// that will not (done, set aside) until such slots are a fifth of the snapshot and are
    /// dropped together.
    slots: Vec<usize>,
    /// Per slot: whether its job will not come back, and how many such slots there are.
    gone: Vec<bool>,
    gone_count: usize,
    /// Jobs that left the queue since the last cycle (done, stopping, set aside or parked).
    left: Vec<usize>,
    /// Replicas stopped since the last cycle, as (job, replica): their allocations go.
    stopped: Vec<(usize, u32)>,
    /// Jobs whose work left or run changed since the last cycle (started, preempted).
    touched: Vec<usize>,
    /// Preempted jobs whose grace ended since the last cycle: they come back to the snapshot.
    requeued: Vec<usize>,
    /// Per snapshot workload: when its run started and its checkpoint interval, while it is a
    /// running training job that checkpoints (what its allocations' last checkpoint follows).
    checkpoints: Vec<Option<Checkpoints>>,
    /// When each of them next moves its last checkpoint, soonest first, as (time, slot); an
    /// entry whose time is not its slot's next is stale and passed over.
    checkpoint_due: BinaryHeap<Reverse<(i64, u32)>>,
    /// The snapshot's allocations by workload.
    allocations: AllocationIndex,
    /// Snapshot workloads whose allocations (their order and last checkpoints included), expected
    /// work or replicas changed since the last cycle: what the engine's cycle cache is told.
    changed: Vec<WorkloadId>,
    /// The hour of day the workloads' wanted replicas were last set for.
    synced_hour: Option<usize>,
    events: BinaryHeap<Reverse<(i64, u64, Event)>>,
    seq: u64,
    now: i64,
    dirty: bool,
    cycle_pending: bool,
    /// When the last cycle ran.
    last_cycle: Option<i64>,
    meter: Meter,
    outcomes: Outcomes,
    progress: Option<&'a crate::progress::Progress>,
    /// Free devices and running work, for the parking rules.
    occupancy: Occupancy,
    /// Waiting jobs kept out of the snapshot until they could start.
    parking: Parking,
}

impl<'a> Run<'a> {
    /// A run of `policy` on `snapshot` (the fleet as the policy arranges it).
    pub fn new(fleet: &'a Fleet, snapshot: Snapshot, policy: Policy, cycle_seconds: i64) -> Self {
        let models = snapshot.catalogue.models.len();
        let cache = CycleCache::new(&snapshot);
        let occupancy = Occupancy::new(&snapshot, cache.fleet());
        Run {
            fleet,
            cache,
            devices_per_model: fleet.devices_per_model(),
            snapshot,
            policy,
            cycle_seconds,
            jobs: Chunked::default(),
            active: 0,
            services: BTreeSet::new(),
            allocated: vec![0; models],
            slots: Vec::new(),
            gone: Vec::new(),
            gone_count: 0,
            left: Vec::new(),
            stopped: Vec::new(),
            touched: Vec::new(),
            requeued: Vec::new(),
            checkpoints: Vec::new(),
            checkpoint_due: BinaryHeap::new(),
            allocations: AllocationIndex::default(),
            changed: Vec::new(),
            synced_hour: None,
            events: BinaryHeap::new(),
            seq: 0,
            now: 0,
            dirty: false,
            cycle_pending: false,
            last_cycle: None,
            meter: Meter { device_seconds: vec![0; models], ..Meter::default() },
            outcomes: Outcomes::default(),
            progress: None,
            occupancy,
            parking: Parking::default(),
        }
    }

    /// Reports simulated time to a progress bar as the run goes.
    pub fn with_progress(mut self, progress: &'a crate::progress::Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    fn at(&mut self, time: i64, event: Event) {
        self.seq += 1;
        self.events.push(Reverse((time, self.seq, event)));
    }

    /// Replays `source` to the end (or to `until` seconds, when given) and reports.
    pub fn run(mut self, source: impl IntoIterator<Item = SimJob>, until: Option<i64>, name: &str) -> PolicyReport {
        let mut source = source.into_iter().peekable();
        self.at(0, Event::Hour);
        loop {
            let next_arrival = source.peek().map(|j| j.arrival);
            let next_event = self.events.peek().map(|Reverse((t, _, _))| *t);
            let next = match (next_arrival, next_event) {
                (Some(a), Some(e)) => a.min(e),
                (Some(a), None) => a,
                (None, Some(e)) => e,
                (None, None) => break,
            };
            if until.is_some_and(|u| next > u) {
                break;
            }
            if next_arrival.is_none() && self.active == 0 {
                break; // what is left are hourly ticks and stale completions
            }
            self.now = next;
            while source.peek().is_some_and(|j| j.arrival == self.now) {
                if let Some(job) = source.next() {
                    self.arrive(job);
                }
            }
            while self.events.peek().is_some_and(|Reverse((t, _, _))| *t == self.now) {
                if let Some(Reverse((_, _, event))) = self.events.pop() {
                    self.handle(event);
                }
            }
            if self.dirty && !self.cycle_pending {
                // The next cycle boundary at or after now (one due now runs in the next turn), and
                // a whole interval after the last cycle: the controller runs at most once an
                // interval, so what a cycle's own preemptions change waits for the next boundary.
                self.cycle_pending = true;
                let earliest = self.last_cycle.map_or(self.now, |t| self.now.max(t + self.cycle_seconds));
                let wait = (self.cycle_seconds - earliest.rem_euclid(self.cycle_seconds)) % self.cycle_seconds;
                self.at(earliest + wait, Event::Cycle);
            }
        }
        self.finish(name, until)
    }

    fn arrive(&mut self, spec: SimJob) {
        self.outcomes.arrived += 1;
        let catalogue = &self.snapshot.catalogue;
        let accepts: Vec<Accept> = spec
            .accepts
            .iter()
            .filter_map(|a| {
                let target = match a {
                    Accepted::Model(m) => Target::Model(catalogue.model_id(m)?),
                    Accepted::Family(f) => Target::Family(catalogue.family_id(f)?),
                };
                // A service here holds a fixed number of replicas (traces give pods, not demand), so
                // a faster chip serves no more: every accepted chip counts as equally fast for it,
                // and selection comes down to price.
                let throughput = (spec.kind == WorkloadKind::Inference).then_some(1.0);
                Some(Accept { target, min_memory_gib: 0, throughput })
            })
            .collect();
        let in_fleet = catalogue.model_ids().filter(|m| self.devices_per_model[m.ix()] > 0).any(|model| {
            let family = catalogue.model(model).family;
            accepts.iter().any(|a| a.target == Target::Model(model) || a.target == Target::Family(family))
        });
        let id = self.jobs.len();
        let remaining = spec.work.unwrap_or(0.0);
        let failed = if spec.tenant >= self.fleet.tenants.len() {
            Some("its tenant is not in the scenario")
        } else if !in_fleet {
            Some("no accepted accelerator is in the fleet")
        } else {
            None
        };
        if let Some(lifetime) = spec.lifetime.filter(|_| spec.kind == WorkloadKind::Inference) {
            self.at(spec.arrival + lifetime, Event::Delete { job: id });
        }
        let status = if let Some(reason) = failed {
            self.outcomes.failed += 1;
            *self.outcomes.failed_reasons.entry(reason.into()).or_default() += 1;
            Status::Failed
        } else {
            self.dirty = true;
            self.active += 1;
            if spec.kind == WorkloadKind::Inference {
                self.services.insert(id);
            }
            Status::Waiting
        };
        let waits = status == Status::Waiting;
        self.jobs.push(Job {
            spec,
            status,
            first_start: None,
            remaining,
            replicas: Vec::new(),
            run_start: 0,
            rate: 0.0,
            epoch: 0,
            accepts,
            unrunnable: false,
            parked: None,
            park_class: [None; 2],
        });
        if waits {
            self.snapshot.workloads.push(self.workload(id));
            self.slots.push(id);
            self.gone.push(false);
            self.checkpoints.push(None);
            self.allocations.push_workload();
        }
    }

    fn hour(&self) -> usize {
        (self.now.div_euclid(3600).rem_euclid(24)) as usize
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Finish { job, epoch } => {
                if self.jobs[job].epoch == epoch && self.jobs[job].status == Status::Running {
                    let j = &self.jobs[job];
                    self.meter.work += j.remaining;
                    let jct = (self.now - j.spec.arrival) as f64;
                    self.meter.jcts.entry(j.spec.tenant).or_default().push(jct);
                    self.stop(job, self.now);
                    self.jobs[job].remaining = 0.0;
                    self.jobs[job].status = Status::Done;
                    self.active -= 1;
                    self.left.push(job);
                    self.outcomes.completed += 1;
                    self.dirty = true;
                }
            }
            Event::Delete { job } => {
                match self.jobs[job].status {
                    Status::Running => self.outcomes.completed += 1,
                    Status::Waiting if self.jobs[job].first_start.is_none() => self.outcomes.expired_unserved += 1,
                    Status::Waiting | Status::Stopping => self.outcomes.completed += 1,
                    _ => return,
                }
                self.stop(job, self.now);
                self.jobs[job].status = Status::Done;
                if let Some(class) = self.jobs[job].parked.take() {
                    self.parking.forget(class as usize, job);
                }
                self.active -= 1;
                self.services.remove(&job);
                self.left.push(job);
                self.dirty = true;
            }
            Event::Hour => {
                if let Some(p) = self.progress {
                    p.set(self.now);
                }
                let hour = self.hour();
                let services: Vec<usize> = self.services.iter().copied().collect();
                for j in services {
                    if self.jobs[j].status != Status::Running {
                        continue;
                    }
                    let wanted = self.jobs[j].spec.replicas_at(hour) as usize;
                    if self.jobs[j].replicas.len() > wanted {
                        self.jobs[j].replicas.sort_by_key(|r| r.replica);
                        let extra = self.jobs[j].replicas.split_off(wanted);
                        for r in &extra {
                            self.charge(j, r, self.now);
                            self.released(j, r);
                        }
                    }
                    if self.jobs[j].replicas.len() < wanted {
                        self.dirty = true;
                    }
                }
                self.meter.hourly.push(self.allocated.clone());
                self.at(self.now + 3600, Event::Hour);
            }
            Event::Requeue { job } => {
                if self.jobs[job].status == Status::Stopping {
                    self.jobs[job].status = Status::Waiting;
                    self.requeued.push(job);
                    self.dirty = true;
                }
            }
            Event::Cycle => {
                self.cycle_pending = false;
                if self.dirty {
                    self.dirty = false;
                    self.last_cycle = Some(self.now);
                    self.cycle();
                }
            }
        }
    }

    /// Charges a replica's devices from `since` to `end`; for services, counts their work.
    fn charge(&mut self, job: usize, r: &Replica, end: i64) {
        let seconds = (end - r.since).max(0);
        let hours = seconds as f64 / 3600.0;
        let devices = r.devices.len() as f64;
        self.meter.device_seconds[r.model.ix()] += seconds * r.devices.len() as i64;
        let j = &self.jobs[job];
        if j.spec.kind == WorkloadKind::Inference {
            self.meter.work += devices * hours * j.spec.service_rate;
        }
    }

    /// Stops every replica of a job at `end`.
    fn stop(&mut self, job: usize, end: i64) {
        let replicas = std::mem::take(&mut self.jobs[job].replicas);
        for r in &replicas {
            self.charge(job, r, end);
            self.released(job, r);
        }
    }

    /// What the occupancy counts for a job's replica.
    fn held(&self, job: usize, r: &Replica) -> Held {
        let j = &self.jobs[job];
        Held {
            tenant: self.fleet.tenants[j.spec.tenant],
            priority: j.spec.priority,
            node: r.node,
            model: r.model,
            devices: r.devices.len() as u32,
            usage: r.usage,
        }
    }

    /// A replica's devices are free again: counted, and parked jobs that wait for them told.
    fn released(&mut self, job: usize, r: &Replica) {
        self.stopped.push((job, r.replica));
        self.allocated[r.model.ix()] -= r.devices.len() as u32;
        let held = self.held(job, r);
        self.occupancy.release(&self.snapshot, held);
        self.parking.released(&self.snapshot, &self.occupancy, held.tenant, r.node, r.model);
    }

    fn cycle(&mut self) {
        let woken = self.parking.begin_cycle(&self.snapshot, &self.occupancy, &self.policy);
        self.sync_snapshot(woken);
        let plan = schedule_on(&self.snapshot, &mut self.cache, &self.policy, Seconds(self.now));
        let slots = std::mem::take(&mut self.slots);
        self.apply(&plan, &slots);
        self.park(&plan, &slots);
        self.slots = slots;
    }

    /// Brings the engine's workloads and allocations up to date with the jobs: the snapshot is
    /// kept from cycle to cycle and changed in place, so a cycle costs what changed, not what runs.
    /// `woken`: parked jobs to bring back (with the preempted ones whose grace has ended).
    ///
    /// A job that leaves the queue is withdrawn where it is (the engine passes over it) and a job
    /// that comes back takes its slot again, so the snapshot's order — job order, as a snapshot
    /// built afresh — holds without moving the rest. Slots of jobs that will not come back are
    /// dropped together once they are a fifth of the snapshot (moving every workload once).
    fn sync_snapshot(&mut self, woken: Vec<usize>) {
        let requeued = std::mem::take(&mut self.requeued);
        let woken: Vec<usize> =
            woken.into_iter().chain(requeued).filter(|&j| self.jobs[j].status == Status::Waiting).collect();
        for &j in &woken {
            self.jobs[j].parked = None;
        }
        let stopped = {
            let mut stopped = std::mem::take(&mut self.stopped);
            stopped.sort_unstable();
            stopped
        };
        let mut left = std::mem::take(&mut self.left);
        left.sort_unstable();
        left.dedup();
        for job in left {
            // A job parked in the last cycle may be woken already: it stays.
            if !self.jobs[job].in_queue()
                && let Ok(slot) = self.slots.binary_search(&job)
            {
                let w = &mut self.snapshot.workloads[slot];
                (w.replicas_min, w.replicas_wanted) = (0, 0);
                self.changed.push(WorkloadId(slot as u32));
                if !self.gone[slot] && !self.jobs[job].may_return() {
                    self.gone[slot] = true;
                    self.gone_count += 1;
                }
            }
        }
        // Every job that comes back (parked, or stopped after preemption) kept its slot; one
        // parked in the last cycle and woken already was never withdrawn.
        for job in woken {
            let slot = self.slots.binary_search(&job);
            debug_assert!(slot.is_ok(), "job {job} comes back to a slot that was dropped");
            if let Ok(slot) = slot
                && self.snapshot.workloads[slot].is_withdrawn()
            {
                self.rejoin(slot, job);
                self.set_checkpoints(slot, None);
            }
        }
        let renumbered = self.gone_count * 5 > self.slots.len();
        if renumbered {
            self.restack(&stopped);
        } else {
            for &(job, replica) in &stopped {
                if let Ok(slot) = self.slots.binary_search(&job) {
                    let w = WorkloadId(slot as u32);
                    self.changed.extend(self.allocations.remove(&mut self.snapshot.allocations, w, replica));
                    self.changed.push(w);
                }
            }
        }
        let hour = self.hour();
        if self.synced_hour != Some(hour) {
            self.synced_hour = Some(hour);
            // Only a service's demand follows the hour.
            let slots = self.snapshot.workloads.iter_mut().zip(&self.slots).enumerate();
            for (slot, (w, &job)) in slots.filter(|(_, (w, _))| w.kind == WorkloadKind::Inference) {
                let wanted = if w.is_withdrawn() { continue } else { self.jobs[job].spec.replicas_at(hour) };
                if w.replicas_wanted != wanted {
                    w.replicas_wanted = wanted;
                    self.changed.push(WorkloadId(slot as u32));
                }
            }
        }
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for job in touched {
            // The slots are in job order: a touched job still in the snapshot is found by search.
            if let Ok(slot) = self.slots.binary_search(&job) {
                let j = &self.jobs[job];
                if j.spec.kind == WorkloadKind::Training {
                    self.snapshot.workloads[slot].expected_work = Some(j.remaining);
                }
                self.set_checkpoints(slot, checkpointing(j).map(Checkpoints::new));
            }
        }
        while let Some(&Reverse((t, slot))) = self.checkpoint_due.peek()
            && t <= self.now
        {
            self.checkpoint_due.pop();
            if let Some(c) = self.checkpoints[slot as usize]
                && c.next == t
            {
                self.set_checkpoints(slot as usize, Some(c));
            }
        }
        if renumbered {
            self.changed.clear();
        } else {
            self.cache.changed(self.changed.drain(..));
        }
        if cfg!(debug_assertions) {
            self.allocations.check(&self.snapshot.allocations);
            for a in &self.snapshot.allocations {
                let c = self.checkpoints[a.workload.ix()];
                let last = c.and_then(|c| last_checkpoint_at(c.run, self.now)).map(Seconds);
                debug_assert_eq!(a.last_checkpoint, last, "{:?}'s last checkpoint is stale", a.workload);
            }
        }
    }

    /// Gives a slot its run's checkpoints (none: it does not checkpoint now) and its allocations
    /// their last checkpoint, files when that next moves, and counts the slot changed.
    fn set_checkpoints(&mut self, slot: usize, checkpoints: Option<Checkpoints>) {
        let mut c = checkpoints;
        let last = c.as_mut().and_then(|c| c.last_at(self.now)).map(Seconds);
        self.allocations.set_last_checkpoint(&mut self.snapshot.allocations, WorkloadId(slot as u32), last);
        self.changed.push(WorkloadId(slot as u32));
        if let Some(c) = c {
            self.checkpoint_due.push(Reverse((c.next, slot as u32)));
        }
        self.checkpoints[slot] = c;
    }

    /// Drops the slots of jobs gone and the replicas that stopped.
    fn restack(&mut self, stopped: &[(usize, u32)]) {
        let kept = self.slots.len() - self.gone_count;
        let (mut slots, mut workloads, mut checkpoints) =
            (Vec::with_capacity(kept), Vec::with_capacity(kept), Vec::with_capacity(kept));
        let mut remap = vec![u32::MAX; self.slots.len()];
        let old = std::mem::take(&mut self.slots)
            .into_iter()
            .zip(std::mem::take(&mut self.snapshot.workloads))
            .zip(std::mem::take(&mut self.checkpoints))
            .zip(std::mem::take(&mut self.gone));
        for (slot, (((job, w), c), gone)) in old.enumerate() {
            debug_assert_eq!(w.is_withdrawn(), !self.jobs[job].in_queue(), "job {job} left the queue unrecorded");
            if !gone {
                remap[slot] = slots.len() as u32;
                slots.push(job);
                workloads.push(w);
                checkpoints.push(c);
            }
        }
        self.gone = vec![false; slots.len()];
        self.gone_count = 0;
        self.slots = slots;
        self.snapshot.workloads = workloads;
        self.checkpoints = checkpoints;
        let slots = &self.slots;
        self.snapshot.allocations.retain_mut(|a| {
            let Some(&new) = remap.get(a.workload.ix()).filter(|&&new| new != u32::MAX) else {
                return false;
            };
            a.workload = WorkloadId(new);
            stopped.binary_search(&(slots[new as usize], a.replica)).is_err()
        });
        self.allocations.renumber(&self.snapshot.allocations, self.slots.len());
        self.checkpoint_due = self
            .checkpoints
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| c.map(|c| Reverse((c.next, slot as u32))))
            .collect();
    }

    /// Takes out of the queue the waiting jobs the cycle left pending with nothing held.
    ///
    /// A job the engine found no usable accelerator for is set aside for good: which
    /// accelerators a job may use depends only on the catalogue, the fleet's node pools and its
    /// tenant's clusters, none of which change during a run, so the engine would say the same
    /// every cycle, and a pending workload with no candidate reserves nothing and changes no one
    /// else's turn — leaving it out changes no decision. The others are parked until something
    /// could let them start ([`Parking`]). Either way the job stays waiting for the report.
    fn park(&mut self, plan: &Plan, ids: &[usize]) {
        for p in &plan.pending {
            let job = ids[p.workload.ix()];
            let j = &self.jobs[job];
            if j.status != Status::Waiting || !j.replicas.is_empty() {
                continue; // a service short of replicas demand calls for: it runs, so it stays
            }
            match p.cause {
                PendingCause::NoAcceptableAccelerator => self.jobs[job].unrunnable = true,
                _ if p.reserved_from.is_some() => continue,
                cause => {
                    let quota_only = cause == PendingCause::Quota;
                    let class = match self.jobs[job].park_class[usize::from(quota_only)] {
                        Some(c) => c as usize,
                        None => {
                            let wl = &self.snapshot.workloads[p.workload.ix()];
                            let c = self.parking.class_of(&self.snapshot, &self.occupancy, wl, quota_only);
                            self.jobs[job].park_class[usize::from(quota_only)] = Some(c as u32);
                            c
                        }
                    };
                    self.parking.park(class, job);
                    self.jobs[job].parked = Some(class as u32);
                }
            }
            self.left.push(job);
        }
    }

    /// The engine's view of a job that has just become active.
    fn workload(&self, job: usize) -> Workload {
        let j = &self.jobs[job];
        let mut w = Workload {
            name: j.spec.name.clone(),
            tenant: self.fleet.tenants[j.spec.tenant],
            kind: j.spec.kind,
            class: j.spec.class,
            priority: j.spec.priority,
            preemptible: j.spec.preemptible,
            replicas_min: 0,
            replicas_wanted: 0,
            devices_per_replica: j.spec.devices_per_replica,
            accepts: j.accepts.clone(),
            allow_mixed_models: false,
            expected_work: None,
            checkpoint: j.spec.checkpoint,
            deadline: None,
            submitted: Seconds(j.spec.arrival),
        };
        set_waiting(&mut w, j, self.hour());
        w
    }

    /// Puts a withdrawn job's workload back in the queue: what moved while it was out (replicas
    /// wanted this hour, work remaining) is set again, the rest it kept.
    fn rejoin(&mut self, slot: usize, job: usize) {
        let hour = self.hour();
        set_waiting(&mut self.snapshot.workloads[slot], &self.jobs[job], hour);
    }

    fn apply(&mut self, plan: &Plan, ids: &[usize]) {
        let mut start_at: BTreeMap<usize, i64> = BTreeMap::new();
        for p in &plan.preemptions {
            let victim = ids[p.victim.ix()];
            let stop = self.now + p.grace_seconds;
            let e = start_at.entry(ids[p.for_workload.ix()]).or_insert(self.now);
            *e = (*e).max(stop);
            self.preempt(victim, stop);
        }
        let mut started: Vec<usize> = Vec::new();
        for b in &plan.binds {
            let job = ids[b.workload.ix()];
            let since = if b.after_preemption { start_at.get(&job).copied().unwrap_or(self.now) } else { self.now };
            let replica = Replica {
                replica: b.replica,
                node: b.node,
                devices: b.devices.clone(),
                model: b.model,
                usage: b.usage,
                since,
            };
            let held = self.held(job, &replica);
            self.occupancy.bind(&self.snapshot, held);
            self.allocated[b.model.ix()] += b.devices.len() as u32;
            self.jobs[job].replicas.push(replica);
            self.changed.push(b.workload);
            self.allocations.push(
                &mut self.snapshot.allocations,
                Allocation {
                    workload: b.workload,
                    replica: b.replica,
                    node: b.node,
                    devices: mask_of(&b.devices),
                    model: b.model,
                    usage: b.usage,
                    started: Seconds(since),
                    last_checkpoint: self.checkpoints[b.workload.ix()].and_then(|c| c.last).map(Seconds),
                },
            );
            if started.last() != Some(&job) {
                started.push(job);
            }
        }
        for job in started {
            self.started(job);
        }
    }

    /// A job got replicas: a gang that is now whole starts its run.
    fn started(&mut self, job: usize) {
        let j = &self.jobs[job];
        if j.status == Status::Running && j.spec.kind == WorkloadKind::Inference {
            return; // a service scaling up
        }
        if (j.replicas.len() as u32) < j.replicas_min() {
            return;
        }
        let since = j.replicas.iter().map(|r| r.since).max().unwrap_or(self.now);
        let delay = (since - j.spec.arrival) as f64;
        if j.first_start.is_none() {
            self.meter.delays.entry(j.spec.tenant).or_default().push(delay);
        }
        let rate = self.rate(job);
        let j = &mut self.jobs[job];
        j.first_start.get_or_insert(since);
        j.status = Status::Running;
        j.run_start = since;
        self.touched.push(job);
        j.rate = rate;
        j.epoch += 1;
        if j.spec.kind == WorkloadKind::Training && rate > 0.0 {
            let end = since + (j.remaining / rate * 3600.0).ceil() as i64;
            let epoch = j.epoch;
            self.at(end, Event::Finish { job, epoch });
        }
    }

    /// Reference-device-hours per hour of a running gang.
    fn rate(&self, job: usize) -> f64 {
        let j = &self.jobs[job];
        let Some(first) = j.replicas.first() else { return 0.0 };
        let model = self.snapshot.catalogue.model(first.model);
        let tp = model.throughput[j.spec.class as usize].unwrap_or(0.0);
        let mut nodes: Vec<NodeId> = j.replicas.iter().map(|r| r.node).collect();
        nodes.sort();
        nodes.dedup();
        let mut groups: Vec<_> = nodes.iter().map(|n| self.snapshot.group_of(*n)).collect();
        groups.sort();
        groups.dedup();
        let efficiency = scaling_efficiency(nodes.len() as u32, groups.len() as u32);
        let devices: usize = j.replicas.iter().map(|r| r.devices.len()).sum();
        devices as f64 * tp * efficiency
    }

    /// Stops a victim at `stop`: it keeps its work up to the last checkpoint and waits again.
    fn preempt(&mut self, job: usize, stop: i64) {
        self.meter.preemptions += 1;
        let j = &self.jobs[job];
        if j.spec.kind == WorkloadKind::Training && j.status == Status::Running {
            let done = (stop - j.run_start).max(0) as f64 / 3600.0 * j.rate;
            let kept_until = last_checkpoint(j, stop).unwrap_or(j.run_start);
            let kept = ((kept_until - j.run_start).max(0) as f64 / 3600.0 * j.rate).min(j.remaining);
            self.meter.lost_work += (done.min(j.remaining) - kept).max(0.0);
            self.meter.work += kept;
            self.jobs[job].remaining -= kept;
        }
        self.stop(job, stop);
        self.touched.push(job);
        let j = &mut self.jobs[job];
        j.epoch += 1;
        if stop > self.now {
            // Its replicas run on to the end of the grace period: only then does it wait again,
            // so it never runs twice over.
            j.status = Status::Stopping;
            self.left.push(job);
            self.at(stop, Event::Requeue { job });
        } else {
            j.status = Status::Waiting;
            self.dirty = true;
        }
    }

    fn finish(mut self, name: &str, until: Option<i64>) -> PolicyReport {
        let end = until.unwrap_or(self.now).max(self.now);
        for job in 0..self.jobs.len() {
            match self.jobs[job].status {
                Status::Running => {
                    let j = &self.jobs[job];
                    if j.spec.kind == WorkloadKind::Training {
                        let done = ((end - j.run_start).max(0) as f64 / 3600.0 * j.rate).min(j.remaining);
                        self.meter.work += done;
                    }
                    self.stop(job, end);
                    self.outcomes.running_at_end += 1;
                }
                Status::Waiting | Status::Stopping => {
                    self.outcomes.queued_at_end += 1;
                    // Still waiting: its delay so far counts (censored at the end), so a fleet
                    // that leaves work queued cannot look fast.
                    let j = &self.jobs[job];
                    if j.first_start.is_none() {
                        self.meter.delays.entry(j.spec.tenant).or_default().push((end - j.spec.arrival) as f64);
                    }
                }
                _ => {}
            }
        }
        let s = &self.snapshot;
        let capacity = &self.devices_per_model;
        let hours = end as f64 / 3600.0;
        let mut utilisation = BTreeMap::new();
        let (mut used, mut available) = (0.0, 0.0);
        for (m, model) in s.catalogue.models.iter().enumerate() {
            if capacity[m] == 0 {
                continue;
            }
            let avail = f64::from(capacity[m]) * hours;
            let device_hours = self.meter.device_seconds[m] as f64 / 3600.0;
            utilisation.insert(model.name.clone(), round3(if avail > 0.0 { device_hours / avail } else { 0.0 }));
            used += device_hours;
            available += avail;
        }
        let tenant_name = |t: usize| s.tenants[self.fleet.tenants[t].ix()].name.clone();
        let device_seconds = s.catalogue.models.iter().zip(&self.meter.device_seconds);
        let cost: Decimal = device_seconds.map(|(m, &n)| m.price_per_hour * Decimal::from(n)).sum::<Decimal>();
        let cost = (cost / Decimal::from(3600)).round_dp(2);
        let cost_f = rust_decimal::prelude::ToPrimitive::to_f64(&cost).unwrap_or(0.0);
        PolicyReport {
            policy: name.into(),
            cost,
            work: round3(self.meter.work),
            cost_per_work: if self.meter.work > 0.0 { round3(cost_f / self.meter.work) } else { 0.0 },
            utilisation,
            utilisation_total: round3(if available > 0.0 { used / available } else { 0.0 }),
            queueing_delay: self.meter.delays.iter().map(|(t, v)| (tenant_name(*t), Percentiles::of(v))).collect(),
            jct: self.meter.jcts.iter().map(|(t, v)| (tenant_name(*t), Percentiles::of(v))).collect(),
            preemptions: self.meter.preemptions,
            lost_work: round3(self.meter.lost_work),
            jobs: self.outcomes,
            hours: round3(hours),
            hourly: self.meter.hourly,
            models: s.catalogue.models.iter().map(|m| m.name.clone()).collect(),
        }
    }
}

/// A workload's replicas and expected work as its job waits at an hour of day.
fn set_waiting(w: &mut Workload, j: &Job, hour: usize) {
    let service = j.spec.kind == WorkloadKind::Inference;
    w.replicas_min = if service { 1 } else { j.spec.replicas };
    w.replicas_wanted = j.spec.replicas_at(hour);
    w.expected_work = (!service).then_some(j.remaining);
}

impl Job {
    /// Whether it is in the engine's queue (not withdrawn): waiting or running, neither set aside
    /// nor parked.
    fn in_queue(&self) -> bool {
        matches!(self.status, Status::Waiting | Status::Running) && !self.unrunnable && self.parked.is_none()
    }

    /// Whether, out of the queue, it may come back to it (parked, or stopping after preemption).
    fn may_return(&self) -> bool {
        matches!(self.status, Status::Waiting | Status::Stopping) && !self.unrunnable
    }

    fn replicas_min(&self) -> u32 {
        if self.spec.kind == WorkloadKind::Inference { 1 } else { self.spec.replicas }
    }
}

/// The last checkpoint of a running training job at `t`: whole intervals since its run started.
fn last_checkpoint(j: &Job, t: i64) -> Option<i64> {
    checkpointing(j).and_then(|c| last_checkpoint_at(c, t))
}

/// When a job's run started and its checkpoint interval, while it runs and checkpoints.
fn checkpointing(j: &Job) -> Option<(i64, i64)> {
    let cp = j.spec.checkpoint?;
    (j.status == Status::Running && cp.interval > 0).then_some((j.run_start, cp.interval))
}

/// A run's checkpoints, with the last as of the latest time asked and when that next moves (once
/// an interval).
#[derive(Clone, Copy)]
struct Checkpoints {
    run: (i64, i64),
    last: Option<i64>,
    /// When `last` next changes.
    next: i64,
}

impl Checkpoints {
    fn new(run: (i64, i64)) -> Self {
        Checkpoints { run, last: None, next: i64::MIN }
    }

    /// The last checkpoint at `t`, which is never before a time asked for earlier.
    fn last_at(&mut self, t: i64) -> Option<i64> {
        if t >= self.next {
            let (start, interval) = self.run;
            self.last = last_checkpoint_at(self.run, t);
            self.next = self.last.unwrap_or(start) + interval;
        }
        self.last
    }
}

/// The last checkpoint at `t` of a run that started at `start` and checkpoints every `interval`.
fn last_checkpoint_at((start, interval): (i64, i64), t: i64) -> Option<i64> {
    if t < start {
        return None;
    }
    let k = (t - start) / interval;
    (k > 0).then_some(start + k * interval)
}

#[cfg(test)]
mod tests {
    use super::Checkpoints;

    #[test]
    fn the_last_checkpoint_changes_once_an_interval() {
        let mut c = Checkpoints::new((1_000, 600));
        let asked: Vec<Option<i64>> =
            [900, 1_000, 1_599, 1_600, 1_601, 2_199, 2_200, 5_000].map(|t| c.last_at(t)).to_vec();
        assert_eq!(asked, [None, None, None, Some(1_600), Some(1_600), Some(1_600), Some(2_200), Some(4_600)]);
    }
}
