"""Classical power allocation baselines."""

__all__: list[str] = []
