"""tdxq.projectors."""
