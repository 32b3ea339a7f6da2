"""The package's module graph: no import cycles, no library -> CLI import, local imports only for heavy deps.

The graph is built statically with ``ast`` from the source files of every module that pyproject's
``[tool.setuptools]`` maps into the ``studygym`` package (``envs/`` -> ``studygym.envs``, ``agents/`` ->
``studygym.agents``). An edge ``a -> b`` means module ``a`` imports module ``b`` when ``a`` is imported
(a module-level statement, including ones inside a module-level ``if``/``try`` or class body, but not
inside a function and not under ``if TYPE_CHECKING:``). ``from pkg import name`` is an edge to
``pkg.name`` when that is a module of the package, else to ``pkg``. Edges to a parent package's
``__init__`` that Python runs implicitly are not drawn (every module would otherwise sit in a cycle
with ``studygym/__init__.py``, which imports the env modules to register them); the package
``__init__`` files are walked like any module, so what they import explicitly is checked.

The same graph backs ARCHITECTURE.md's "what must never import what".
"""

from __future__ import annotations

import ast
import pathlib
import re
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Modules that are command-line front ends: library modules must not import them.
CLI_MODULES = re.compile(r"^studygym\.cli(\.\w+)?$")

# Third-party packages a function may import locally, to keep ``import studygym`` (and every CLI start)
# fast and working without them:
# - optional extras: ray (``studygym sweep``), fsrs / fsrs_optimizer (py-fsrs's reference optimizer),
#   fsrs_rs_python (a peer implementation, test extra), yaml (only to read rl-zoo3 hyper-parameter
#   files in agents/sb3.py), sb3_contrib (MaskablePPO, agents/sb3.py's ``ppo_mask``);
# - seconds to import and used by a few functions only: torch and stable_baselines3 (the SB3 agents),
#   matplotlib and PIL (figures, frames and GIFs), tensorboard (training logs);
# - gymnasium: envs/core.py builds Gymnasium spaces only on request, so the pure-JAX core imports
#   without it (envs/gym.py, the adapter layer, imports it at the top);
# - tqdm: ``tqdm.auto`` probes for a notebook front end when imported; only progress bars need it.
# Anything else (the standard library, numpy, jax, optax, pandas, the package's own modules) is
# imported at the top of the module.
HEAVY_OPTIONAL = {"ray", "fsrs", "fsrs_optimizer", "fsrs_rs_python", "yaml", "torch", "stable_baselines3", "sb3_contrib",
                  "matplotlib", "PIL", "tensorboard", "gymnasium", "tqdm"}


def _packages() -> dict[str, pathlib.Path]:
    """Package name -> folder, from pyproject's setuptools packages and package-dir."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package_dir = tool.get("package-dir", {})
    out = {}
    for pkg in tool["packages"]:
        parts = pkg.split(".")
        for i in range(len(parts), 0, -1):  # longest mapped prefix wins
            prefix = ".".join(parts[:i])
            if prefix in package_dir:
                out[pkg] = ROOT / package_dir[prefix] / pathlib.Path(*parts[i:])
                break
        else:
            out[pkg] = ROOT / pathlib.Path(*parts)
    return out


def package_modules() -> dict[str, pathlib.Path]:
    """Every module of the installed package: dotted name -> source file."""
    mods = {}
    for pkg, folder in _packages().items():
        for path in sorted(folder.glob("*.py")):
            mods[pkg if path.stem == "__init__" else f"{pkg}.{path.stem}"] = path
    return mods


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module):
    """Yield (node, at_module_level) for every import statement."""
    def walk(node, top):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, top
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from walk(child, False)
            elif isinstance(child, ast.If) and top and _is_type_checking(child):
                yield from walk(child, False)
            else:
                yield from walk(child, top)
    yield from walk(tree, True)


def _targets(node, module: str, is_pkg: bool, known: set[str]) -> list[str]:
    """The dotted module names an import statement names (absolute, relative resolved)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        src = ".".join(base + ([node.module] if node.module else []))
    else:
        src = node.module
    out = []
    for a in node.names:
        sub = f"{src}.{a.name}"
        out.append(sub if sub in known else src)
    return out


def import_graph():
    """(edges, local_imports): module -> set of package modules imported at module level; and a list
    of (module, line, imported top-level name) for every function-local import."""
    mods = package_modules()
    known = set(mods)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    local = []
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node, top in _imports(tree):
            for target in _targets(node, mod, path.stem == "__init__", known):
                if top:
                    if target in known and target != mod:
                        edges[mod].add(target)
                elif (mod, node.lineno, target) not in local:
                    local.append((mod, node.lineno, target))
    return edges, local


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_graph_covers_the_package():
    mods = package_modules()
    for name in ("studygym", "studygym.evaluation.harness", "studygym.envs.core", "studygym.envs.learners.fsrs",
                 "studygym.agents.ppo", "studygym.agents.schedulers.interval", "studygym.cli"):
        assert name in mods, name
    edges, _ = import_graph()
    # relative imports resolve: envs/learners/__init__.py imports .base and .fsrs
    assert {"studygym.envs.learners.base", "studygym.envs.learners.fsrs"} <= edges["studygym.envs.learners"]
    assert "studygym.envs.core" in edges["studygym.envs.tasks.review"]


def test_cycle_finder_finds_a_planted_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(edges) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    edges, _ = import_graph()
    cycles = find_cycles(edges)
    detail = []
    for comp in cycles:
        inner = sorted(f"{a} -> {b}" for a in comp for b in edges[a] if b in comp)
        detail.append(", ".join(inner))
    assert not cycles, "import cycles at module level:\n" + "\n".join(detail)


def test_no_cycles_even_through_function_local_imports():
    edges, local = import_graph()
    known = set(edges)
    full = {m: set(ts) for m, ts in edges.items()}
    for m, _, t in local:
        if t in known and t != m:
            full[m].add(t)
    cycles = find_cycles(full)
    assert not cycles, f"import cycles through function-local imports: {cycles}"


def test_no_library_module_imports_a_cli_module():
    edges, local = import_graph()
    bad = [f"{m} -> {t}" for m, ts in edges.items() if not CLI_MODULES.match(m) for t in ts
           if CLI_MODULES.match(t)]
    bad += [f"{m}:{line} -> {t} (local)" for m, line, t in local
            if not CLI_MODULES.match(m) and CLI_MODULES.match(t)]
    assert not bad, "library modules import CLI modules:\n" + "\n".join(sorted(bad))


#: (importer, what it must never import, why). The layers, bottom to top: foundation (errors, files,
#: markdown, runs, sharding, envs.core) < the registry (every table of names) < envs (learners, tasks,
#: the Gymnasium/gymnax adapters) < agents (schedulers, PPO, SB3) < policies < evaluation (harness,
#: report, tuning, suites, sweep, replicate: studygym/evaluation/; and smoke) and fitting (studygym/fitting/:
#: model < one module per family < core < population) < the catalog (registers what ships; only the
#: package root imports it) < CLI (studygym/cli/, one module per command). See ARCHITECTURE.md.
EVALUATION = r"studygym\.(evaluation(\..+)?|smoke)$"
FITTING = r"studygym\.fitting(\..+)?$"
LAYER_RULES = [
    (r"studygym\.(errors|files|markdown|runs|sharding|fitting\.model)$|studygym\.envs\.core$", r"studygym\..+",
     "the foundation imports nothing of the package (envs.core: nothing but itself)"),
    (r"studygym\.registry$", r"studygym\.(?!(errors|envs\.core)$).+",
     "the registry (every table of names) sits on the foundation, so every layer can look names up"),
    (r"studygym\..+", r"studygym\.catalog$", "only the package root registers what ships (studygym.catalog)"),
    (r"studygym\.(envs(\..+)?|registry|wrappers)$", r"studygym\.(agents(\..+)?|policies)$|" + EVALUATION + "|" + FITTING,
     "envs know nothing of the agents that act in them, of evaluation or of fitting"),
    (r"studygym\.agents(\..+)?$", EVALUATION + "|" + FITTING, "agents are evaluated, they do not evaluate"),
    (r"studygym\.agents(\..+)?$(?<!planner)", r"studygym\.policies$",
     "only the planner (a policy over policies) resolves other policies by name"),
    (FITTING, r"studygym\.(agents(\..+)?|policies)$|" + EVALUATION, "fitting needs the learners' maths only"),
]


def _module_level_calls(tree: ast.Module):
    """Every call made when the module is imported (not inside a function or a class's methods)."""
    def walk(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Call):
                yield child
            yield from walk(child)
    yield from walk(tree)


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_the_layout_groups_evaluation_fitting_and_the_cli():
    """Every CLI command is a module of ``studygym.cli``; evaluation and fitting are sub-packages, and
    none of their modules is left at the package's top level."""
    from studygym.cli import COMMANDS

    assert all(module.startswith("studygym.cli.") for module, _ in COMMANDS.values()), COMMANDS
    mods = set(package_modules())
    for group, members in {"evaluation": {"harness", "report", "tuning", "suites", "sweep", "replicate"},
                           "fitting": {"core", "model", "fsrs", "reddy", "actr_dhp", "ebisu", "population", "data"},
                           "cli": {"evaluate", "train", "fit", "bench", "smoke", "demo", "replicate"}}.items():
        assert {f"studygym.{group}.{m}" for m in members} <= mods, group
    stray = [m for m in mods if re.match(r"studygym\.(cli_\w+|demo|fit(_\w+)?|harness|report|tuning|suites|sweep"
                                         r"|replicate|population|data|anki_formats)$", m)]
    assert not stray, stray


def test_registration_is_never_a_side_effect_of_importing_a_module():
    """Only the package root registers, and only by calling ``studygym.catalog.register_builtins``: no
    module registers an env, learner, policy or fit model (or a Gymnasium id) when it is imported."""
    bad = []
    for mod, path in package_modules().items():
        for call in _module_level_calls(ast.parse(path.read_text(), filename=str(path))):
            name = _called_name(call)
            if name.startswith("register") and (mod, name) != ("studygym", "register_builtins"):
                bad.append(f"{path.relative_to(ROOT)}:{call.lineno}: {name}(...) at import")
    assert not bad, "registration as a side effect of importing a module:\n" + "\n".join(bad)


def test_the_registration_check_sees_module_level_registration():
    tree = ast.parse("register_learner(X)\nfor m in M:\n    register_model(m)\ndef f():\n    register(1)\n")
    assert [_called_name(c) for c in _module_level_calls(tree)] == ["register_learner", "register_model"]


def test_layers():
    edges, _ = import_graph()
    bad = [f"{m} -> {t}: {why}" for src, forbidden, why in LAYER_RULES for m, ts in edges.items()
           if re.match(src, m) for t in ts if re.match(forbidden, t) and t != m]
    assert not bad, "layering violations:\n" + "\n".join(sorted(bad))


def test_layer_rules_match_what_they_name():
    modules = set(package_modules())
    for src, forbidden, _ in LAYER_RULES:
        assert any(re.match(src, m) for m in modules), src
        assert any(re.match(forbidden, m) for m in modules), forbidden


@pytest.mark.parametrize("allowed", [False])
def test_function_local_imports_only_defer_heavy_optional_deps(allowed):
    _, local = import_graph()
    bad = [f"{m}:{line} imports {t}" for m, line, t in local if t.split(".")[0] not in HEAVY_OPTIONAL]
    assert not bad, (f"{len(bad)} function-local imports of light or in-package modules (move them to the "
                     "top of the module, or, for a heavy optional dependency, add it to HEAVY_OPTIONAL with "
                     "the reason):\n" + "\n".join(sorted(bad)))


# ----------------------------------------------------------------------------------------------
# Declared capabilities, not probing
# ----------------------------------------------------------------------------------------------

#: ``getattr``/``hasattr`` on an env or a learner, or an env's class name compared as a string: the
#: env and learner declare what they have (``Environment``: item_features, global_features,
#: action_layout, obs_layout, extra_metrics, objective, family, steps_per_day, day_length;
#: ``LearnerBase``: out_of_range_item_rests, has_restudy, has_reward_events, has_sleep_traits).
PROBE = re.compile(r"\b(getattr|hasattr)\((p_env|env|self\.env|learner|self\.learner|env\.learner|ctx\.learner"
                   r"|params\.learner|get_learner\([^)]*\))\s*,|\bhasattr\((self\.)?state\s*,|type\((p_env|env)\)\.__name__\s*[!=]=")


def _probes(paths):
    hits = []
    for path in paths:
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if PROBE.search(line) and not line.lstrip().startswith("#"):
                hits.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    return hits


def test_the_probe_pattern_catches_probing():
    tmp = ["getattr(env, 'obs_layout', None)", "hasattr(learner, 'restudy')", 'type(env).__name__ == "DeckEnv"',
           "hasattr(get_learner(self.learner), 'reward_event')", "hasattr(self.state, 'awake_since')",
           "getattr(ctx.learner, 'has_sleep_traits', False)"]
    assert all(PROBE.search(t) for t in tmp)
    assert not PROBE.search("env.obs_layout") and not PROBE.search("getattr(policy, 'privileged', False)")
    assert not PROBE.search("{f.name: getattr(state, f.name) for f in fields}")  # copying declared fields


def test_agents_harness_and_tasks_read_declared_capabilities():
    paths = (sorted((ROOT / "agents").rglob("*.py")) + sorted((ROOT / "studygym" / "evaluation").glob("*.py"))
             + [ROOT / "studygym" / "policies.py"] + sorted((ROOT / "envs" / "tasks").glob("*.py")))
    hits = _probes(paths)
    assert not hits, "capability probing (declare it on Environment / LearnerBase instead):\n" + "\n".join(hits)


def test_every_registered_env_and_learner_declares_its_contract():
    import studygym
    from studygym.envs.learners import LEARNERS
    from studygym.envs.learners.base import LearnerBase

    families = {"review", "sleep", "tagging", "deck", "practice", "sspmmc"}
    for env_id in studygym.registered_ids():
        env, params = studygym.make(env_id)
        assert env.family in families, (env_id, env.family)
        assert env.objective == "episode_return" or env.objective in env.extra_metrics, env_id
        assert isinstance(env.steps_per_day, int) and env.steps_per_day >= 1, env_id
        assert float(env.day_length(params)) > 0, env_id
    for name, learner in LEARNERS.items():
        assert isinstance(learner, LearnerBase), name
    assert LEARNERS["brain"].has_reward_events and not LEARNERS["fsrs"].has_reward_events
