"""The ``studygym`` command line: ``studygym <command> ...``.

Each sub-command lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "list": ("studygym.cli_list", "list the registered environments"),
    "smoke": ("studygym.smoke", "smoke-test environments (jit once, finite, deterministic)"),
    "evaluate": ("studygym.cli_evaluate", "evaluate policies on an env; write a leaderboard and figures"),
    "bench": ("studygym.suites", "run a named benchmark suite (e.g. --suite classic) into results/"),
    "train": ("studygym.cli_train", "train a learned agent (JAX PPO) and save it as a policy"),
    "fit": ("studygym.cli_fit", "fit a memory model to a review log (CSV, Anki export or builtin)"),
    "demo": ("studygym.demo", "the main job on built-in defaults: train, evaluate, leaderboard"),
    "sweep": ("studygym.cli_sweep", "run a grid (env x learner preset x policy x seed) on Ray; one leaderboard"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studygym", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    argv = sys.argv[1:] if argv is None else list(argv)
    # Import only the command asked for (each pulls its own heavy dependencies), all for --help.
    chosen = [argv[0]] if argv and argv[0] in COMMANDS else list(COMMANDS)
    modules = {}
    for name in chosen:
        module_name, help_text = COMMANDS[name]
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return int(modules[args.command].run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
