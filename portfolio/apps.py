from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolio: spend, metrics, forecasts, commitments"

    def ready(self) -> None:
        # Registers the exact SQLite sum on every new connection.
        import finops_exec.exact  # noqa: F401
