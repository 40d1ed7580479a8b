"""tdxq.tdx."""
