//! Workload sources as the simulator consumes them: a stream of [`SimJob`]s in arrival order.
//! Today: the built-in generator, sized and pointed at the scenario's fleet.

use std::sync::Arc;

use tidepool_engine::{Seconds, WorkloadKind};

use crate::generator::{AcceptedChip, Chip, Generator, GeneratorConfig, Job};
use crate::scenario::GeneratorConfig as ScenarioGenerator;
use crate::sim::fleet::Fleet;
use crate::sim::job::{Accepted, SimJob};

/// Jobs from the built-in generator for `days` days, built for the chips of the fleet (weighted by
/// their device counts) and shared among the scenario's tenants by their total nominal quota.
pub fn generated(config: &ScenarioGenerator, fleet: &Fleet) -> Result<impl Iterator<Item = SimJob> + use<>, String> {
    let counts = fleet.devices_per_model();
    let catalogue = &fleet.base.catalogue;
    let chips: Vec<Chip> = catalogue
        .models
        .iter()
        .enumerate()
        .filter(|(m, _)| counts[*m] > 0)
        .map(|(m, model)| Chip {
            model: Arc::from(model.name.as_str()),
            family: Arc::from(catalogue.families[model.family.ix()].as_str()),
            weight: counts[m],
        })
        .collect();
    let mut shares = [0.0; 3];
    for (i, &t) in fleet.tenants.iter().take(3).enumerate() {
        shares[i] = fleet.base.tenants[t.ix()].quotas.iter().map(|q| f64::from(q.nominal)).sum::<f64>().max(1.0);
    }
    let generator = Generator::new(GeneratorConfig {
        seed: config.seed,
        start: Seconds(0),
        jobs_per_day: config.jobs_per_day,
        tenant_shares: shares,
        chips,
        ..GeneratorConfig::default()
    })
    .map_err(|e| format!("workload.generator: {e}"))?;
    let end = i64::from(config.days) * 86_400;
    let tenants = fleet.tenants.len();
    let catalogue = fleet.base.catalogue.clone();
    Ok(generator.take_while(move |j| j.arrival.0 < end).map(move |j| from_generated(&j, tenants, &catalogue)))
}

fn from_generated(j: &Job, tenants: usize, catalogue: &tidepool_engine::Catalogue) -> SimJob {
    let service = j.service.filter(|_| j.kind == WorkloadKind::Inference);
    // A service is sized for the chip it was built for: the first it accepts.
    let sized_for = j.accepts.first().and_then(|a| match a {
        AcceptedChip::Model(m) => catalogue.model_id(m),
        AcceptedChip::Family(f) => {
            let family = catalogue.family_id(f)?;
            catalogue.model_ids().find(|m| catalogue.model(*m).family == family)
        }
    });
    let service_rate = sized_for
        .and_then(|m| catalogue.model(m).throughput[j.class as usize])
        .filter(|_| service.is_some())
        .unwrap_or(0.0);
    SimJob {
        name: format!("gen-{}", j.seq),
        arrival: j.arrival.0,
        tenant: j.tenant.min(tenants.saturating_sub(1)),
        kind: j.kind,
        class: j.class,
        replicas: j.replicas,
        devices_per_replica: j.devices_per_replica,
        work: j.expected_work,
        lifetime: service.map(|s| s.lifetime_s),
        hourly_shares: service.map(|s| Box::new(s.profile.hourly_share)),
        service_rate,
        priority: j.priority,
        preemptible: j.preemptible,
        checkpoint: j.checkpoint,
        accepts: j
            .accepts
            .iter()
            .map(|a| match a {
                AcceptedChip::Model(m) => Accepted::Model(m.to_string()),
                AcceptedChip::Family(f) => Accepted::Family(f.to_string()),
            })
            .collect(),
    }
}
