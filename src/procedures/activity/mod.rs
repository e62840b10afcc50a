//! Tool usage (policy procedure 17) and response simulations (procedure 18).

pub mod simulation_record;
pub mod tool_record;
