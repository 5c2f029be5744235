"""Readers of real Azure inputs (instance views, ``az`` output, Activity Logs, snapshots)."""

from .instance_view import read_instance_views, read_instance_views_file

__all__ = ["read_instance_views", "read_instance_views_file"]
