//! `gatewatch demo`: the real app against simulated gateways started on
//! 127.0.0.1, staging the incidents gatewatch is built for.

pub mod newapi_sim;
