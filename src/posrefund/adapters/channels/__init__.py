"""PaymentChannel adapters: one per route back to the payer."""
