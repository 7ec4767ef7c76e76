//! `SchedulingPolicy`: the knobs of the placement engine, tidal lending and pricing. The controller
//! uses the policy it is configured with (by default the one named `default`); the simulator takes
//! policies from scenario files.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::defaults;
use crate::validation::{Checker, DECIMAL_PATTERN, Validate, Violations};

/// How Tidepool decides: what it optimises, how it packs, when it preempts, how it lends idle
/// inference capacity and how it prices usage.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "tidepool.dev",
    version = "v1alpha1",
    kind = "SchedulingPolicy",
    plural = "schedulingpolicies",
    shortname = "spol",
    category = "tidepool",
    status = "SchedulingPolicyStatus",
    printcolumn(name = "Objective", type_ = "string", json_path = ".spec.objective"),
    printcolumn(name = "Packing", type_ = "string", json_path = ".spec.packing"),
    printcolumn(name = "Preemption", type_ = "boolean", json_path = ".spec.preemption.enabled"),
    printcolumn(name = "Tidal", type_ = "boolean", json_path = ".spec.tidal.enabled"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    doc = "A Tidepool scheduling policy (cluster-scoped)."
)]
#[serde(rename_all = "camelCase")]
pub struct SchedulingPolicySpec {
    /// What chip selection optimises: `Cost` (cheapest that meets the deadline), `Speed` (soonest
    /// finish), or `Balanced` (cheapest among those within 25% of the soonest finish).
    #[serde(default)]
    pub objective: Objective,
    /// `BestFit` fills partly used nodes first to keep whole nodes free for gangs; `Spread` spreads
    /// replicas for resilience.
    #[serde(default)]
    pub packing: Packing,
    /// When running work may be stopped for other work.
    #[serde(default)]
    pub preemption: PreemptionRules,
    /// Lending idle inference capacity to preemptible training.
    #[serde(default)]
    pub tidal: TidalPolicy,
    /// How usage is priced for chargeback.
    #[serde(default)]
    pub pricing: PricingPolicy,
    /// Local time of the group, as hours east of UTC: day boundaries of demand profiles and statements.
    #[serde(default = "defaults::utc_offset_hours")]
    #[schemars(range(min = -12, max = 14))]
    pub utc_offset_hours: i32,
    /// Shortest time between two scheduling cycles, in milliseconds.
    #[serde(default = "defaults::cycle_interval_millis")]
    #[schemars(range(min = 10, max = 600000))]
    pub cycle_interval_millis: u32,
}

/// What chip selection optimises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Objective {
    /// Cheapest chip that meets the deadline.
    Cost,
    /// Cheapest chip among those finishing within 25% of the fastest.
    #[default]
    Balanced,
    /// Chip that finishes soonest.
    Speed,
}

/// How replicas are packed onto nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Packing {
    /// Fill partly used nodes first.
    #[default]
    BestFit,
    /// Prefer the emptiest nodes.
    Spread,
}

/// When running work may be stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreemptionRules {
    /// Whether any preemption happens.
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
    /// Reclaim devices other tenants borrowed when their owner needs them within its nominal quota.
    #[serde(default = "defaults::yes")]
    pub reclaim_borrowed: bool,
    /// Reclaim devices lent by inference services ahead of their demand returning.
    #[serde(default = "defaults::yes")]
    pub reclaim_tidal: bool,
    /// Within a tenant, a workload preempts another only if its priority is higher by at least this.
    #[serde(default = "defaults::min_priority_gap")]
    #[schemars(range(min = 1, max = 2000))]
    pub min_priority_gap: i32,
}

impl Default for PreemptionRules {
    fn default() -> Self {
        Self {
            enabled: true,
            reclaim_borrowed: true,
            reclaim_tidal: true,
            min_priority_gap: defaults::MIN_PRIORITY_GAP,
        }
    }
}

/// Tidal lending parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TidalPolicy {
    /// Whether idle inference devices are lent at all.
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
    /// How far ahead, in minutes, the demand forecast must stay below capacity for devices to be lent.
    #[serde(default = "defaults::tidal_horizon_minutes")]
    #[schemars(range(min = 5, max = 10080))]
    pub horizon_minutes: u32,
    /// Replicas kept above the forecast, in percent.
    #[serde(default = "defaults::tidal_safety_margin_percent")]
    #[schemars(range(min = 0, max = 500))]
    pub safety_margin_percent: u32,
}

impl Default for TidalPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            horizon_minutes: defaults::TIDAL_HORIZON_MINUTES,
            safety_margin_percent: defaults::TIDAL_SAFETY_MARGIN_PERCENT,
        }
    }
}

/// Pricing of usage for chargeback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingPolicy {
    /// ISO 4217 currency of statements; catalogue prices must be in it.
    #[serde(default = "defaults::currency")]
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: String,
    /// Which catalogue price tenants are charged: `Transfer` (default) or `List`.
    #[serde(default)]
    pub basis: PriceBasis,
    /// Multipliers on the price per usage class.
    #[serde(default)]
    pub usage_class_multipliers: UsageClassMultipliers,
    /// What happens to the cost of devices nobody used.
    #[serde(default)]
    pub idle_cost: IdleCostRule,
}

impl Default for PricingPolicy {
    fn default() -> Self {
        Self {
            currency: defaults::CURRENCY.to_owned(),
            basis: PriceBasis::default(),
            usage_class_multipliers: UsageClassMultipliers::default(),
            idle_cost: IdleCostRule::default(),
        }
    }
}

/// Which catalogue price is charged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PriceBasis {
    /// The group's transfer price.
    #[default]
    Transfer,
    /// The public-cloud list price.
    List,
}

/// Price multipliers per usage class, as decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageClassMultipliers {
    /// Devices within the tenant's nominal quota.
    #[serde(default = "defaults::multiplier_guaranteed")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub guaranteed: String,
    /// Devices borrowed beyond nominal quota.
    #[serde(default = "defaults::multiplier_borrowed")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub borrowed: String,
    /// Devices lent by inference services (preemptible).
    #[serde(default = "defaults::multiplier_tidal")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub tidal: String,
}

impl Default for UsageClassMultipliers {
    fn default() -> Self {
        Self {
            guaranteed: defaults::MULTIPLIER_GUARANTEED.to_owned(),
            borrowed: defaults::MULTIPLIER_BORROWED.to_owned(),
            tidal: defaults::MULTIPLIER_TIDAL.to_owned(),
        }
    }
}

/// Who pays for idle devices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum IdleCostRule {
    /// The provider (the group's technology subsidiary) keeps idle cost; statements show it apart.
    #[default]
    KeepWithProvider,
    /// Idle cost is shared out in proportion to each tenant's usage cost.
    ShareByUsage,
    /// Idle cost is shared out evenly among tenants with usage.
    ShareEvenly,
}

/// What the controller last observed of the policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchedulingPolicyStatus {
    /// Standard conditions (`Accepted`, `Active`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl Default for SchedulingPolicySpec {
    fn default() -> Self {
        Self {
            objective: Objective::default(),
            packing: Packing::default(),
            preemption: PreemptionRules::default(),
            tidal: TidalPolicy::default(),
            pricing: PricingPolicy::default(),
            utc_offset_hours: defaults::UTC_OFFSET_HOURS,
            cycle_interval_millis: defaults::CYCLE_INTERVAL_MILLIS,
        }
    }
}

impl Validate for SchedulingPolicySpec {
    fn validate(&self) -> Result<(), Violations> {
        let mut c = Checker::new();
        c.require(
            self.preemption.min_priority_gap >= 1,
            "spec.preemption.minPriorityGap",
            || format!("{} is below 1", self.preemption.min_priority_gap),
            "use 1 to let any higher priority preempt",
        );
        c.require(
            (-12..=14).contains(&self.utc_offset_hours),
            "spec.utcOffsetHours",
            || format!("{} is not a UTC offset", self.utc_offset_hours),
            "give hours east of UTC, between -12 and 14 (8 for China)",
        );
        c.require(
            self.cycle_interval_millis >= 10,
            "spec.cycleIntervalMillis",
            || format!("{} ms is too short", self.cycle_interval_millis),
            "use at least 10 ms",
        );
        c.require(
            self.tidal.horizon_minutes >= 5,
            "spec.tidal.horizonMinutes",
            || format!("{} is under 5 minutes", self.tidal.horizon_minutes),
            "look at least 5 minutes ahead",
        );
        let p = &self.pricing;
        c.require(
            p.currency.len() == 3 && p.currency.bytes().all(|b| b.is_ascii_uppercase()),
            "spec.pricing.currency",
            || format!("{:?} is not an ISO 4217 code", p.currency),
            "use a three-letter code such as CNY",
        );
        let m = &p.usage_class_multipliers;
        c.decimal("spec.pricing.usageClassMultipliers.guaranteed", &m.guaranteed);
        c.decimal("spec.pricing.usageClassMultipliers.borrowed", &m.borrowed);
        c.decimal("spec.pricing.usageClassMultipliers.tidal", &m.tidal);
        c.finish()
    }
}

impl Validate for SchedulingPolicy {
    fn validate(&self) -> Result<(), Violations> {
        self.spec.validate()
    }
}
