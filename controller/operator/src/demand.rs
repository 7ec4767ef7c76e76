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

/// Replicas wanted at `now`, running on `model` when it runs.
pub fn desired_replicas(svc: &InferenceService, model: Option<&str>, now: Timestamp, utc_offset_hours: i32) -> u32 {
    let s = &svc.spec;
    let (min, max) = (s.replicas.min, s.replicas.max_or_min());
    let choice = model
        .and_then(|m| s.accelerators.iter().find(|c| c.model.as_deref() == Some(m)))
        .filter(|c| c.capacity_requests_per_second.is_some())
        .or_else(|| s.accelerators.iter().find(|c| c.capacity_requests_per_second.is_some()));
    let capacity = choice.and_then(|c| c.capacity_requests_per_second.as_deref()).and_then(decimal);
    let Some(peak) = decimal(&s.demand.peak_requests_per_second) else { return min };
    let share = match s.demand.hourly_profile.get(local_hour(now, utc_offset_hours)) {
        Some(share) => decimal(share).unwrap_or(Decimal::ONE),
        None => Decimal::ONE,
    };
    let usable = capacity.unwrap_or_default() * Decimal::from(s.target_utilization_percent) / Decimal::ONE_HUNDRED;
    if usable.is_zero() {
        return max;
    }
    let needed = (peak * share / usable).ceil().to_u32().unwrap_or(u32::MAX);
    needed.clamp(min, max)
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
}
