"""The built-in action types; importing this package registers them."""

from . import add_asset, add_lab, comment, find_active_tickets, summary_comment

__all__ = ["add_asset", "add_lab", "comment", "find_active_tickets", "summary_comment"]
