"""The payment service provider's desk (docs/provider.md): its tenant above its merchants, the terminals it
issues, device returns (退机) on the refund core, the decision clock and the read-only view of its merchants'
refunds."""
