"""finops_exec: executive FinOps decision support."""

from finops_exec.celery import app as celery_app

__all__ = ("celery_app",)
