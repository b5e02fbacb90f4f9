"""Satu Pintu's payment service: fees billed on submission, paid by QRIS or at the counter, gating the workflow."""
