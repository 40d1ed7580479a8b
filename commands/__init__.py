"""tdxq.commands."""
