//! Every default of the API, in one place.
//!
//! Serde applies these when Rust reads a manifest, and schemars writes them into the CRD schema so
//! the API server applies the same values on admission: an object reads the same in `kubectl get -o
//! yaml`, in the controller and in the simulator. The README's API section lists them.

/// `TrainingJob.spec.devicesPerReplica` and `InferenceService.spec.devicesPerReplica`.
pub const DEVICES_PER_REPLICA: u32 = 1;
/// `TrainingJob.spec.priority`: ordinary batch work.
pub const TRAINING_PRIORITY: i32 = 0;
/// `InferenceService.spec.priority`: serving outranks batch training by default.
pub const INFERENCE_PRIORITY: i32 = 100;
/// `TrainingJob.spec.checkpoint.gracePeriodSeconds`: time to write a checkpoint before eviction.
pub const CHECKPOINT_GRACE_SECONDS: u32 = 120;
/// `InferenceService.spec.targetUtilizationPercent`: headroom kept on every replica.
pub const TARGET_UTILIZATION_PERCENT: u32 = 70;
/// `InferenceService.spec.tidal.reclaimLeadTimeSeconds`: notice given to borrowers before demand returns.
pub const RECLAIM_LEAD_TIME_SECONDS: u32 = 600;
/// `Tenant.spec.weight`: equal fair share.
pub const TENANT_WEIGHT: u32 = 1;
/// `SchedulingPolicy.spec.preemption.minPriorityGap`: any higher priority may preempt.
pub const MIN_PRIORITY_GAP: i32 = 1;
/// `SchedulingPolicy.spec.tidal.horizonMinutes`: how far ahead the demand forecast looks.
pub const TIDAL_HORIZON_MINUTES: u32 = 120;
/// `SchedulingPolicy.spec.tidal.safetyMarginPercent`: extra replicas kept above the forecast.
pub const TIDAL_SAFETY_MARGIN_PERCENT: u32 = 20;
/// `SchedulingPolicy.spec.utcOffsetHours`: the group's local time (China Standard Time).
pub const UTC_OFFSET_HOURS: i32 = 8;
/// `SchedulingPolicy.spec.cycleIntervalMillis`: the shortest time between scheduling cycles.
pub const CYCLE_INTERVAL_MILLIS: u32 = 1000;
/// `SchedulingPolicy.spec.pricing.currency` and `AcceleratorModel.spec.prices.currency`.
pub const CURRENCY: &str = "CNY";
/// `SchedulingPolicy.spec.pricing.usageClassMultipliers.guaranteed`.
pub const MULTIPLIER_GUARANTEED: &str = "1.00";
/// `SchedulingPolicy.spec.pricing.usageClassMultipliers.borrowed`.
pub const MULTIPLIER_BORROWED: &str = "1.00";
/// `SchedulingPolicy.spec.pricing.usageClassMultipliers.tidal`: preemptible capacity is cheaper.
pub const MULTIPLIER_TIDAL: &str = "0.50";

pub(crate) fn devices_per_replica() -> u32 {
    DEVICES_PER_REPLICA
}
pub(crate) fn training_priority() -> i32 {
    TRAINING_PRIORITY
}
pub(crate) fn inference_priority() -> i32 {
    INFERENCE_PRIORITY
}
pub(crate) fn checkpoint_grace_seconds() -> u32 {
    CHECKPOINT_GRACE_SECONDS
}
pub(crate) fn target_utilization_percent() -> u32 {
    TARGET_UTILIZATION_PERCENT
}
pub(crate) fn reclaim_lead_time_seconds() -> u32 {
    RECLAIM_LEAD_TIME_SECONDS
}
pub(crate) fn tenant_weight() -> u32 {
    TENANT_WEIGHT
}
pub(crate) fn min_priority_gap() -> i32 {
    MIN_PRIORITY_GAP
}
pub(crate) fn tidal_horizon_minutes() -> u32 {
    TIDAL_HORIZON_MINUTES
}
pub(crate) fn tidal_safety_margin_percent() -> u32 {
    TIDAL_SAFETY_MARGIN_PERCENT
}
pub(crate) fn utc_offset_hours() -> i32 {
    UTC_OFFSET_HOURS
}
pub(crate) fn cycle_interval_millis() -> u32 {
    CYCLE_INTERVAL_MILLIS
}
pub(crate) fn currency() -> String {
    CURRENCY.to_owned()
}
pub(crate) fn multiplier_guaranteed() -> String {
    MULTIPLIER_GUARANTEED.to_owned()
}
pub(crate) fn multiplier_borrowed() -> String {
    MULTIPLIER_BORROWED.to_owned()
}
pub(crate) fn multiplier_tidal() -> String {
    MULTIPLIER_TIDAL.to_owned()
}
pub(crate) fn yes() -> bool {
    true
}
