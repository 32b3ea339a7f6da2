"""The ``studygym`` command line: ``studygym <command> ...``.

Each sub-command lives in its own module of this package (``studygym/cli/<command>.py``) exposing ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS = {
    "list": ("studygym.cli.listing", "list the registered environments"),
    "smoke": ("studygym.cli.smoke", "smoke-test environments (jit once, finite, deterministic)"),
    "evaluate": ("studygym.cli.evaluate", "evaluate policies on an env; write a leaderboard and figures"),
    "bench": ("studygym.cli.bench", "run a named benchmark suite (e.g. --suite classic) into results/"),
    "train": ("studygym.cli.train", "train a learned agent (JAX PPO) and save it as a policy"),
    "fit": ("studygym.cli.fit", "fit a memory model to a review log (CSV, Anki export or builtin)"),
    "demo": ("studygym.cli.demo", "the main job on built-in defaults: train, evaluate, leaderboard"),
    "sweep": ("studygym.cli.sweep", "run a grid (env x learner preset x policy x seed) on Ray; one leaderboard"),
    "render": ("studygym.cli.render", "record one learner's episode under a policy as a GIF (rgb frames)"),
    "replicate": ("studygym.cli.replicate", "replicate classic human experiments through a learner; scorecard vs papers"),
}


#: Errors a user's input can cause (bad values, names, files, paths, JSON): one line, exit 2.
USER_ERRORS = (ValueError, TypeError, KeyError, OSError, ImportError)


def _one_line(error: BaseException) -> str:
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    text = " ".join(text.split()) or type(error).__name__
    return text if isinstance(error, (ValueError, OSError)) else f"{type(error).__name__}: {text}"


def main(argv: list[str] | None = None) -> int:
    """Run a command. A user-input error (``USER_ERRORS``, json errors included: they are
    ``ValueError``) prints one line ``studygym: error: ...`` on stderr and returns 2; any other
    exception too, with a hint. ``--debug`` (before the command) or ``STUDYGYM_DEBUG=1`` shows the
    full traceback instead."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = os.environ.get("STUDYGYM_DEBUG", "") not in ("", "0")
    if argv and argv[0] == "--debug":
        debug, argv = True, argv[1:]
    if debug:
        return _main(argv)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("studygym: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as error:
        print(f"studygym: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # an internal error: still one line, the traceback on request
        print(f"studygym: error: internal error {_one_line(error)} (run with STUDYGYM_DEBUG=1 or "
              "`studygym --debug ...` for the traceback)", file=sys.stderr)
        return 1


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="studygym", description=__doc__.splitlines()[0],
                                     epilog="Errors print one line; STUDYGYM_DEBUG=1 or --debug (before the "
                                            "command) shows the traceback.")
    sub = parser.add_subparsers(dest="command", required=True)
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

