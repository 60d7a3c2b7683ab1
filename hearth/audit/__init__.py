"""Routing audit: which model really answered, against the one that was asked for."""

from hearth.audit.routing import RoutingAudit, model_family, run_audit

__all__ = ["RoutingAudit", "model_family", "run_audit"]
