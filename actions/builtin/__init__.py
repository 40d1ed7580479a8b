"""tdxq.actions.builtin."""
