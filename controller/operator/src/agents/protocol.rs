//! The rules one agent stream must follow, checked message by message: consecutive sequence
//! numbers from 1, a `Hello` first and only first, a usable node name.
//!
//! Pure: it neither records nor answers anything. A broken rule is a [`ProtocolError`], which ends
//! the stream (the agent dials again and starts over, as the protocol intends).

use tidepool_proto::agent::agent_message::Body;
use tidepool_proto::agent::{AgentMessage, Hello};

/// The longest Kubernetes node name (a DNS subdomain).
const MAX_NODE_NAME: usize = 253;

/// A message that breaks the stream's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The sequence number is not the next one.
    #[error("message number {got}, expected {expected}")]
    Sequence {
        /// The number expected.
        expected: u64,
        /// The number sent.
        got: u64,
    },
    /// The first message is not a `Hello`.
    #[error("the first message must be a hello")]
    NoHello,
    /// A second `Hello` on the same stream.
    #[error("a second hello on the same stream")]
    SecondHello,
    /// The node name is empty, too long or not a DNS subdomain.
    #[error("node name {0:?} is not a Kubernetes node name")]
    NodeName(String),
}

/// What a checked message is.
#[derive(Debug, PartialEq)]
pub enum Checked {
    /// The stream's `Hello`.
    Hello(Hello),
    /// Anything after it; `None` for a kind newer than this controller (acknowledged, ignored).
    Report(Option<Body>),
}

/// One stream's position in the protocol.
#[derive(Debug, Default)]
pub struct StreamRules {
    last_sequence: u64,
}

impl StreamRules {
    /// Checks `message`, the next one on the stream.
    pub fn check(&mut self, message: AgentMessage) -> Result<Checked, ProtocolError> {
        let expected = self.last_sequence.saturating_add(1);
        if message.sequence != expected {
            return Err(ProtocolError::Sequence { expected, got: message.sequence });
        }
        let first = self.last_sequence == 0;
        self.last_sequence = expected;
        match (first, message.body) {
            (true, Some(Body::Hello(hello))) => {
                check_node_name(&hello.node_name)?;
                Ok(Checked::Hello(hello))
            }
            (true, _) => Err(ProtocolError::NoHello),
            (false, Some(Body::Hello(_))) => Err(ProtocolError::SecondHello),
            (false, body) => Ok(Checked::Report(body)),
        }
    }

    /// The sequence number of the last message checked (0 before any).
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }
}

/// Whether `name` can be a Kubernetes node name: a lowercase DNS subdomain.
fn check_node_name(name: &str) -> Result<(), ProtocolError> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.is_empty() || name.len() > MAX_NODE_NAME || !name.split('.').all(label_ok) {
        return Err(ProtocolError::NodeName(name.chars().take(MAX_NODE_NAME).collect()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tidepool_proto::agent::{Inventory, UtilisationSample};

    use super::*;

    fn message(sequence: u64, body: Option<Body>) -> AgentMessage {
        AgentMessage { sequence, body }
    }

    fn hello(node: &str) -> Option<Body> {
        Some(Body::Hello(Hello { node_name: node.into(), ..Hello::default() }))
    }

    #[test]
    fn a_well_behaved_stream_passes() {
        let mut rules = StreamRules::default();
        assert!(matches!(rules.check(message(1, hello("node-a.rack-1"))), Ok(Checked::Hello(_))));
        let inventory = Some(Body::Inventory(Inventory::default()));
        assert_eq!(rules.check(message(2, inventory.clone())), Ok(Checked::Report(inventory)));
        assert_eq!(rules.check(message(3, None)), Ok(Checked::Report(None)));
        assert_eq!(rules.last_sequence(), 3);
    }

    #[test]
    fn broken_rules_are_errors() {
        let utilisation = Some(Body::Utilisation(UtilisationSample::default()));
        assert_eq!(StreamRules::default().check(message(1, utilisation)), Err(ProtocolError::NoHello));
        assert_eq!(
            StreamRules::default().check(message(2, hello("a"))),
            Err(ProtocolError::Sequence { expected: 1, got: 2 })
        );
        let mut rules = StreamRules::default();
        rules.check(message(1, hello("a"))).unwrap();
        assert_eq!(rules.check(message(2, hello("a"))), Err(ProtocolError::SecondHello));
        assert_eq!(rules.check(message(2, None)), Err(ProtocolError::Sequence { expected: 3, got: 2 }));
        for bad in ["", "Node", "-a", "a..b", "a_b", &"x".repeat(254)] {
            assert!(matches!(StreamRules::default().check(message(1, hello(bad))), Err(ProtocolError::NodeName(_))));
        }
    }
}
