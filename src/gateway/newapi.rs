//! New API adapter (in progress in this commit; completed with issue 4).

pub mod select;

use async_trait::async_trait;

use super::{AdminOp, AdminResult, Gateway, GatewayError, Liveness, ReplicaSnapshot, ReplicaTarget};
use crate::config::GatewaySpec;

pub struct NewApi {
    spec: GatewaySpec,
}

impl NewApi {
    pub fn new(spec: GatewaySpec) -> Self {
        Self { spec }
    }
}

#[async_trait]
impl Gateway for NewApi {
    fn spec(&self) -> &GatewaySpec {
        &self.spec
    }
    async fn poll(&self, _t: &ReplicaTarget) -> Result<ReplicaSnapshot, GatewayError> {
        Err(GatewayError::Unsupported("New API adapter not built yet".into()))
    }
    async fn liveness(&self, _t: &ReplicaTarget) -> Result<Liveness, GatewayError> {
        Err(GatewayError::Unsupported("New API adapter not built yet".into()))
    }
    async fn admin(&self, _t: &ReplicaTarget, _op: &AdminOp) -> Result<AdminResult, GatewayError> {
        Err(GatewayError::Unsupported("New API adapter not built yet".into()))
    }
}
