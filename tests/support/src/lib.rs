//! What the integration tests (tests/api) and the benchmark (bench/) share: the moto
//! launcher. The demo data and the documented local keys are the library's
//! (`biometric_validations::demo`), which `admin seed-demo` seeds.

pub mod moto;
