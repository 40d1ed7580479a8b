"""tdxq.tdx.sandbox."""
