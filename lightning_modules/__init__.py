"""LightningModules, DataModules and callbacks of pyg_aggnn."""

__all__: list[str] = []
