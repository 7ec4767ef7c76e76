//! What the applier has just done that the watch layer has not shown yet: pods bound and pods
//! evicted. The next pass waits until the stores show them (the expectations pattern of
//! Kubernetes' own controllers), so it never plans on a copy that still has those devices free
//! and hands them out twice.
//!
//! This module only compares; waiting and giving up after a while are the loop's.

use std::collections::BTreeMap;

use crate::snapshot::Objects;

/// Pods the stores must show bound or going away before the next plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectations {
    /// `(namespace, name)` → node it was bound to.
    bound: BTreeMap<(String, String), String>,
    /// `(namespace, name)` of pods evicted.
    evicted: Vec<(String, String)>,
}

impl Expectations {
    /// Expects pod `namespace/name` bound to `node`.
    pub fn bound(&mut self, namespace: String, name: String, node: String) {
        self.bound.insert((namespace, name), node);
    }

    /// Expects pod `namespace/name` to be terminating or gone.
    pub fn evicted(&mut self, namespace: String, name: String) {
        self.evicted.push((namespace, name));
    }

    /// Nothing is expected.
    pub fn is_empty(&self) -> bool {
        self.bound.is_empty() && self.evicted.is_empty()
    }

    /// How many pods are expected to change.
    pub fn len(&self) -> usize {
        self.bound.len() + self.evicted.len()
    }

    /// Whether `objects` show everything expected. A bound pod that is gone counts as shown:
    /// its deletion came after the binding.
    pub fn met_by(&self, objects: &Objects) -> bool {
        if self.is_empty() {
            return true;
        }
        let pods: BTreeMap<(&str, &str), &k8s_openapi::api::core::v1::Pod> = objects
            .pods
            .iter()
            .map(|p| ((p.metadata.namespace.as_deref().unwrap_or(""), p.metadata.name.as_deref().unwrap_or("")), p))
            .collect();
        let bound = self.bound.iter().all(|((ns, name), node)| match pods.get(&(ns.as_str(), name.as_str())) {
            None => true,
            Some(p) => p.spec.as_ref().and_then(|s| s.node_name.as_ref()) == Some(node),
        });
        let evicted = self.evicted.iter().all(|(ns, name)| match pods.get(&(ns.as_str(), name.as_str())) {
            None => true,
            Some(p) => p.metadata.deletion_timestamp.is_some(),
        });
        bound && evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Pod, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn pod(name: &str, node: Option<&str>) -> Pod {
        let mut p = Pod::default();
        p.metadata.namespace = Some("team".into());
        p.metadata.name = Some(name.into());
        p.spec = Some(PodSpec { node_name: node.map(str::to_owned), ..Default::default() });
        p
    }

    #[test]
    fn a_binding_is_met_once_the_store_shows_the_node() {
        let mut e = Expectations::default();
        e.bound("team".into(), "job-0".into(), "n1".into());
        let mut objects = Objects { pods: vec![pod("job-0", None)], ..Default::default() };
        assert!(!e.met_by(&objects), "the store still has it unbound");
        objects.pods = vec![pod("job-0", Some("n1"))];
        assert!(e.met_by(&objects));
        objects.pods.clear();
        assert!(e.met_by(&objects), "deleted since");
    }

    #[test]
    fn an_eviction_is_met_once_the_pod_is_terminating_or_gone() {
        let mut e = Expectations::default();
        e.evicted("team".into(), "victim-0".into());
        let mut victim = pod("victim-0", Some("n1"));
        let mut objects = Objects { pods: vec![victim.clone()], ..Default::default() };
        assert!(!e.met_by(&objects));
        victim.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH));
        objects.pods = vec![victim];
        assert!(e.met_by(&objects));
        assert!(Expectations::default().met_by(&Objects::default()));
    }
}
