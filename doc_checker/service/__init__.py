"""The HTTP review service (FastAPI; needs the ``service`` extra): ``create_app``,
``run_server``."""

from .app import Settings, app_from_env, create_app, run_server

__all__ = ["Settings", "app_from_env", "create_app", "run_server"]
