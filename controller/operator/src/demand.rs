//! How many replicas an inference service's demand calls for now: the hour's share of its peak
//! (`demand.hourlyProfile`, hours in the SchedulingPolicy's UTC offset; an empty profile is flat
//! at the peak) divided by what one replica serves at the target utilisation on the model it runs
//! on (or, before it runs, on its first choice that states a capacity), rounded up, within
//! `replicas.min..=max`.
//!
//! Not read: `demand.metricQuery` (Tidepool has no metrics source yet), so demand follows the
//! profile alone. Pure: the time comes in as an argument.

use k8s_openapi::jiff::Timestamp;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tidepool_crds::InferenceService;

fn decimal(text: &str) -> Option<Decimal> {
    text.trim().parse().ok()
}

/// The hour of the local day at `now`, for a UTC offset in hours.
pub fn local_hour(now: Timestamp, utc_offset_hours: i32) -> usize {
    let local = now.as_second() + i64::from(utc_offset_hours) * 3600;
    (local.rem_euclid(86_400) / 3600) as usize
}

/// The share of the peak expected in local hour `hour` (an empty profile is flat at the peak).
fn share(svc: &InferenceService, hour: usize) -> Decimal {
    svc.spec.demand.hourly_profile.get(hour % 24).and_then(|x| decimal(x)).unwrap_or(Decimal::ONE)
}

/// Replicas needed to serve `share` of the peak on `model` (or the first choice stating a
/// capacity), rounded up, within `replicas.min..=max`.
pub fn replicas_for(svc: &InferenceService, model: Option<&str>, share: Decimal) -> u32 {
    let s = &svc.spec;
    let (min, max) = (s.replicas.min, s.replicas.max_or_min());
    let choice = model
        .and_then(|m| s.accelerators.iter().find(|c| c.model.as_deref() == Some(m)))
        .filter(|c| c.capacity_requests_per_second.is_some())
        .or_else(|| s.accelerators.iter().find(|c| c.capacity_requests_per_second.is_some()));
    let capacity = choice.and_then(|c| c.capacity_requests_per_second.as_deref()).and_then(decimal);
    let Some(peak) = decimal(&s.demand.peak_requests_per_second) else { return min };
    let usable = capacity.unwrap_or_default() * Decimal::from(s.target_utilization_percent) / Decimal::ONE_HUNDRED;
    if usable.is_zero() {
        return max;
    }
    (peak * share / usable).ceil().to_u32().unwrap_or(u32::MAX).clamp(min, max)
}

/// The largest share of the peak in the local hours from `now` to `now + window_seconds`.
pub fn peak_share(svc: &InferenceService, now: Timestamp, window_seconds: i64, utc_offset_hours: i32) -> Decimal {
    let first = local_hour(now, utc_offset_hours);
    let hours = (now.as_second().rem_euclid(3600) + window_seconds.max(0)) / 3600;
    (0..=hours as usize).map(|h| share(svc, first + h)).max().unwrap_or(Decimal::ONE)
}

/// Replicas wanted at `now`, running on `model` when it runs. A service that lends its idle
/// devices wants, already now, what demand calls for within its `reclaimLeadTimeSeconds`, so its
/// borrowers get that much notice.
pub fn desired_replicas(svc: &InferenceService, model: Option<&str>, now: Timestamp, utc_offset_hours: i32) -> u32 {
    let lead = if svc.spec.tidal.may_lend { i64::from(svc.spec.tidal.reclaim_lead_time_seconds) } else { 0 };
    replicas_for(svc, model, peak_share(svc, now, lead, utc_offset_hours))
}

/// Replicas worth of devices a lending service may lend now: what it needs at its daily peak,
/// less the most it may need within the horizon (with the safety margin) or wants now.
pub fn lendable_replicas(svc: &InferenceService, model: Option<&str>, now: Timestamp, policy: &LendingPolicy) -> u32 {
    let day = (0..24).map(|h| share(svc, h)).max().unwrap_or(Decimal::ONE);
    let margin = Decimal::ONE + Decimal::from(policy.safety_margin_percent) / Decimal::ONE_HUNDRED;
    let window = i64::from(policy.horizon_minutes) * 60 + i64::from(svc.spec.tidal.reclaim_lead_time_seconds);
    let soon = replicas_for(svc, model, peak_share(svc, now, window, policy.utc_offset_hours) * margin);
    let now_wanted = desired_replicas(svc, model, now, policy.utc_offset_hours);
    replicas_for(svc, model, day).saturating_sub(soon.max(now_wanted))
}

/// The SchedulingPolicy's figures lending depends on.
#[derive(Clone, Copy, Debug)]
pub struct LendingPolicy {
    /// How far ahead the forecast must stay low, in minutes.
    pub horizon_minutes: u32,
    /// Extra replicas kept above the forecast, in percent.
    pub safety_margin_percent: u32,
    /// The group's local time.
    pub utc_offset_hours: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidepool_crds::manifests::{self, ApiObject};

    fn chatbot() -> InferenceService {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/group-cloud/inference-services.yaml");
        manifests::read_file(std::path::Path::new(file))
            .unwrap()
            .into_iter()
            .find_map(|o| match o {
                ApiObject::InferenceService(s) if s.metadata.name.as_deref() == Some("cs-chatbot") => Some(*s),
                _ => None,
            })
            .unwrap()
    }

    fn at_local(hour: i64) -> Timestamp {
        // 2026-11-29 00:00 at UTC+8 is 2026-11-28 16:00 UTC (1_795_939_200 is 2026-11-29 08:00 UTC).
        Timestamp::from_second(1_795_939_200 - 16 * 3600 + hour * 3600).unwrap()
    }

    #[test]
    fn replicas_follow_the_hourly_profile_and_the_model_running() {
        let svc = chatbot();
        assert_eq!(local_hour(at_local(10), 8), 10);
        // 10:00, share 1.00: 36 req/s ÷ (6.0 × 70%) on H20 = 8.6 → 9; on L20 (4.5) 11.4 → 12.
        assert_eq!(desired_replicas(&svc, Some("nvidia-h20"), at_local(10), 8), 9);
        assert_eq!(desired_replicas(&svc, Some("nvidia-l20"), at_local(10), 8), 12);
        // 03:00, share 0.02: 0.72 req/s needs 1, but the service keeps its minimum of 2.
        assert_eq!(desired_replicas(&svc, Some("nvidia-h20"), at_local(3), 8), 2);
        // Not placed yet: the first choice with a capacity (H20).
        assert_eq!(desired_replicas(&svc, None, at_local(10), 8), 9);
    }

    #[test]
    fn a_lender_lends_its_daily_peak_less_what_the_horizon_may_need() {
        let mut svc = chatbot();
        svc.spec.tidal.reclaim_lead_time_seconds = 900;
        let policy = LendingPolicy { horizon_minutes: 120, safety_margin_percent: 25, utc_offset_hours: 8 };
        // 02:00: the next 2¼ hours peak at 0.03 (×1.25: 1.35 req/s, 1 replica, the minimum 2);
        // the daily peak needs 9 on H20: 7 replicas' worth lendable.
        assert_eq!(lendable_replicas(&svc, Some("nvidia-h20"), at_local(2), &policy), 7);
        // 05:00: 06:00-07:15 is in the window, 0.20 × 1.25 × 36 / 4.2 = 2.1 → 3.
        assert_eq!(lendable_replicas(&svc, Some("nvidia-h20"), at_local(5), &policy), 6);
        // 09:45: the lead time reaches 10:00, so the service wants its peak already; nothing to lend.
        let quarter_to_ten = at_local(9) + k8s_openapi::jiff::SignedDuration::from_mins(45);
        assert_eq!(desired_replicas(&svc, Some("nvidia-h20"), quarter_to_ten, 8), 9);
        assert_eq!(lendable_replicas(&svc, Some("nvidia-h20"), quarter_to_ten, &policy), 0);
    }
}
