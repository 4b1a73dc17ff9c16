"""Risk warnings (风险预警) on refunds: rules over a window of history that raise alerts for a person to decide."""
