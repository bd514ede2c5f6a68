//! CRD presence and ordering.

pub(crate) mod cr_crd_unknown;
