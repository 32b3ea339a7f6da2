"""``studygym list``: the registered environments."""

from studygym.registry import REGISTRY


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    for env_id in sorted(REGISTRY):
        print(f"{env_id:24s} {REGISTRY[env_id].description}")
    return 0
