"""tdxq.actions."""
