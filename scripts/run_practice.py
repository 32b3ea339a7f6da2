"""Practice-v0 results: every baseline on the same simulated learners, and the skill learner's facts.

    .venv/bin/python scripts/run_practice.py [--learners 256] [--seed 0] [--out results/practice] [--force]

Writes into ``--out``:

- ``episodes.csv``, ``summary.csv``, ``leaderboard.md``, ``knowledge_over_time.png``,
  ``reviews_vs_retention.png``: ``studygym.evaluation.harness.evaluate`` of all Practice-v0 baselines at
  their published settings and tuned (``<name>_tuned``, knobs from ``results/tuning``), and the
  privileged references (``oracle_85``, the ``planner``) (``studygym.evaluation.suites.all_policies``) via
  ``studygym.evaluation.report.write_results``, ranked by the env's objective (``episode_return``) and paired
  against ``fixed_level_2``;
- ``facts.md`` and ``practice_facts.png``: the stylized facts of the skill learner measured on
  simulated learners with the protocol of ``tests/science/test_facts_skill.py``
  (``studygym.envs.learners.skill.practice_session``): learning speed against success rate (85%
  rule), the response-time practice curve and its exponential fit, the offline gain of a night's
  sleep against a day awake, savings on relearning.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import curve_fit
from scipy.stats import norm

from studygym.envs.learners.skill import SKILL, practice_session, skill_params
from studygym.files import check_writable
from studygym.evaluation.harness import evaluate
from studygym.markdown import table_lines
from studygym.registry import make
from studygym.evaluation.report import RESULT_FILES, write_results
from studygym.evaluation.suites import all_policies, suite_tuning
from studygym.evaluation.tuning import tuned_policies

ENV_ID = "Practice-v0"
REFERENCE = "fixed_level_2"
FACT_FILES = ("facts.md", "practice_facts.png")
HOUR, MINUTE = 1.0 / 24.0, 1.0 / 1440.0


# ----------------------------------------------------------------------------------------------
# The skill learner's facts (the protocol of tests/science/test_facts_skill.py)
# ----------------------------------------------------------------------------------------------


class Cohort:
    """``n`` skill learners (2 skills each) with vmapped, jitted protocol calls."""

    def __init__(self, n: int, seed: int):
        self.params = skill_params()
        self.keys = jax.random.split(jax.random.key(seed), n)
        self.states = jax.vmap(SKILL.init, in_axes=(0, None, None))(self.keys, self.params, 2)
        run = jax.vmap(practice_session, in_axes=(0, 0, None, None, None, None, None))
        self._session = jax.jit(run)
        self._elapse = jax.jit(jax.vmap(SKILL.elapse, in_axes=(0, None, None)))
        self._sleep = jax.jit(jax.vmap(SKILL.sleep, in_axes=(0, None, None)))
        self._proficiency = jax.jit(jax.vmap(SKILL.proficiency, in_axes=(0, None)))

    def session(self, states, n_trials: int, target_p: float, start: float):
        z = jnp.float32(norm.ppf(target_p))
        return self._session(self.keys, states, self.params, jnp.zeros(n_trials, jnp.int32), z, jnp.float32(0.0),
                             jnp.float32(start))

    def proficiency(self, states, t: float) -> np.ndarray:
        return np.asarray(self._proficiency(self._elapse(states, jnp.float32(t), self.params), self.params))[:, 0]

    def sleep(self, states, t: float):
        return self._sleep(self._elapse(states, jnp.float32(t), self.params), jnp.float32(t), self.params)


def measure_facts(n: int, seed: int) -> dict:
    c = Cohort(n, seed)
    facts: dict = {}
    # 1. Learning speed against the success rate practised at (30 trials of one skill).
    targets = np.round(np.arange(0.55, 0.985, 0.025), 3)
    start = c.proficiency(c.states, 0.0)
    gains, realised = [], []
    for p in targets:
        after, (success, _, _) = c.session(c.states, 30, float(p), 0.0)
        gains.append(float(np.mean(c.proficiency(after, 30 * MINUTE) - start) / 30))
        realised.append(float(np.mean(success)))
    best = int(np.argmax(gains))
    facts["speed"] = dict(targets=targets, gains=np.array(gains), realised=np.array(realised),
                          peak_target=float(targets[best]), peak_realised=realised[best])
    # 2. Response times over 150 trials at 85% success: exponential vs power law.
    _, (_, rt, _) = c.session(c.states, 150, 0.85, 0.0)
    rt = np.asarray(rt, np.float64)
    trials = np.arange(150, dtype=np.float64)

    def exponential(t, a, b, tau):
        return a + b * np.exp(-t / tau)

    def power(t, a, b, beta):
        return a + b * (t + 1.0) ** (-beta)

    better, tau_ratio, r2 = 0, [], []
    individuals = range(0, n, max(1, n // 64))
    for j in individuals:
        pe, _ = curve_fit(exponential, trials, rt[j], p0=(1.0, 2.5, 25.0), maxfev=20000)
        pp, _ = curve_fit(power, trials, rt[j], p0=(0.5, 3.0, 0.5), maxfev=20000,
                          bounds=([-10.0, 0.0, 0.0], [10.0, 100.0, 10.0]))
        sse_e = np.sum((rt[j] - exponential(trials, *pe)) ** 2)
        sse_p = np.sum((rt[j] - power(trials, *pp)) ** 2)
        better += sse_e < sse_p
        tau_ratio.append(pe[2] / float(c.states.rt_tau[j]))
    mean_rt = rt.mean(0)
    pe_mean, _ = curve_fit(exponential, trials, mean_rt, p0=(1.0, 2.5, 25.0), maxfev=20000)
    pp_mean, _ = curve_fit(power, trials, mean_rt, p0=(0.5, 3.0, 0.5), maxfev=20000,
                           bounds=([-10.0, 0.0, 0.0], [10.0, 100.0, 10.0]))
    ss_tot = np.sum((mean_rt - mean_rt.mean()) ** 2)
    facts["rt"] = dict(mean_rt=mean_rt, exp_fit=pe_mean, pow_fit=pp_mean,
                       exp_better=better / len(individuals), n_individuals=len(individuals),
                       tau_ratio=float(np.median(tau_ratio)),
                       r2_exp=1 - np.sum((mean_rt - exponential(trials, *pe_mean)) ** 2) / ss_tot,
                       r2_pow=1 - np.sum((mean_rt - power(trials, *pp_mean)) ** 2) / ss_tot,
                       first10=float(rt[:, :10].mean()), last20=float(rt[:, -20:].mean()))
    # 3. Offline gain: 40 trials at 21:00, sleep 23:00-07:00, test 09:00; vs practice at 09:00, test 21:00.
    evening, _ = c.session(c.states, 40, 0.85, 21 * HOUR)
    end_sleep = c.proficiency(evening, 21 * HOUR + 40 * MINUTE)
    slept = c.sleep(evening, 23 * HOUR)
    morning = c.proficiency(slept, 1 + 9 * HOUR)
    day, _ = c.session(c.states, 40, 0.85, 9 * HOUR)
    end_wake = c.proficiency(day, 9 * HOUR + 40 * MINUTE)
    evening_wake = c.proficiency(day, 21 * HOUR + 40 * MINUTE)
    hours = np.linspace(0, 13, 53)
    sleep_curve = [c.proficiency(evening, 21 * HOUR + 40 * MINUTE + h * HOUR) if h * HOUR + 40 * MINUTE < 2 * HOUR
                   else c.proficiency(slept, max(21 * HOUR + 40 * MINUTE + h * HOUR, 1 + 7 * HOUR)) for h in hours]
    wake_curve = [c.proficiency(day, 9 * HOUR + 40 * MINUTE + h * HOUR) for h in hours]
    facts["sleep"] = dict(offline=float(np.mean(morning - end_sleep)),
                          session_gain=float(np.mean(end_sleep - start)),
                          wake_change=float(np.mean(evening_wake - end_wake)),
                          hours=hours, sleep_curve=np.array([x.mean() for x in sleep_curve]),
                          wake_curve=np.array([x.mean() for x in wake_curve]),
                          start=float(start.mean()))
    # 4. Savings: 60 trials, a month off, relearn to the same proficiency.
    learned, _ = c.session(c.states, 60, 0.85, 0.0)
    criterion = c.proficiency(learned, 60 * MINUTE)
    forgotten = c.proficiency(learned, 30.0)
    _, (_, _, relearn) = c.session(learned, 60, 0.85, 30.0)
    reached = np.asarray(relearn) >= criterion[:, None] - 1e-6
    trials_again = np.where(reached.any(1), reached.argmax(1) + 1, np.nan)
    facts["savings"] = dict(savings=float(np.nanmean(1 - trials_again / 60)),
                            forgotten_share=float(np.mean(criterion - forgotten) / np.mean(criterion - start)))
    return facts


def plot_facts(facts: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    s = facts["speed"]
    ax = axes[0]
    ax.plot(s["realised"], s["gains"], "o-")
    ax.axvline(norm.cdf(1.0), color="grey", ls="--", lw=1, label="Phi(1) = 0.841 (Wilson et al. 2019)")
    ax.set_xlabel("success rate during practice")
    ax.set_ylabel("proficiency gain per trial")
    ax.set_title("Learning is fastest near 85% success")
    ax.legend(fontsize=8)
    r = facts["rt"]
    ax = axes[1]
    trials = np.arange(len(r["mean_rt"]))
    a, b, tau = r["exp_fit"]
    ax.plot(trials, r["mean_rt"], ".", ms=3, label="mean RT of simulated learners")
    ax.plot(trials, a + b * np.exp(-trials / tau), label=f"exponential fit (tau = {tau:.0f} trials)")
    ax.set_xlabel("trials practised on the skill")
    ax.set_ylabel("response time (s)")
    ax.set_title("Practice curve (Heathcote et al. 2000)")
    ax.legend(fontsize=8)
    sl = facts["sleep"]
    ax = axes[2]
    ax.axvspan(1 + 1 / 3, 9 + 1 / 3, color="grey", alpha=0.15, label="asleep (sleep arm)")
    ax.plot(sl["hours"], sl["sleep_curve"], label="practice 21:00, sleep 23:00-07:00")
    ax.plot(sl["hours"], sl["wake_curve"], label="practice 09:00, awake")
    ax.set_xlabel("hours after the end of practice")
    ax.set_ylabel("mean proficiency")
    ax.set_title("Offline gain across sleep, not wake")
    ax.legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def facts_markdown(facts: dict, summary, n_facts: int, n_learners: int) -> str:
    s, r, sl, sv = facts["speed"], facts["rt"], facts["sleep"], facts["savings"]
    by = summary.set_index("policy")

    def cell(policy, metric):
        row = by.loc[policy]
        return f"{row[metric]:.3f} [{row[metric + '_lo']:.3f}, {row[metric + '_hi']:.3f}]"

    lines = [
        "### Practice-v0: the skill learner's stylized facts, measured",
        "",
        f"{n_facts} simulated skill learners (default params) unless stated; "
        "protocol of `tests/science/test_facts_skill.py`.",
        "",
        *table_lines(["fact (source)", "measured"], [
            ["assumption, built into the gain function (not a reproduced fact): learning speed peaks near 85% success "
             "(Wilson et al. 2019)",
             f"peak gain per trial at {s['peak_realised']:.3f} realised success (target {s['peak_target']:.3f}); gain "
             f"at 60% / 98%: {s['gains'][0] / s['gains'].max():.2f} / {s['gains'][-1] / s['gains'].max():.2f} of the peak"],
            ["assumption, RTs are generated exponential (not a reproduced fact): response times follow the exponential "
             "practice curve (Heathcote et al. 2000)",
             f"mean RT {r['first10']:.2f} s (first 10 trials) -> {r['last20']:.2f} s (trials 130-150); exponential fit "
             f"of the mean curve R^2 = {r['r2_exp']:.3f} (power law {r['r2_pow']:.3f}); exponential beats the power "
             f"law for {100 * r['exp_better']:.0f}% of {r['n_individuals']} individual curves; fitted/true tau median "
             f"{r['tau_ratio']:.2f}"],
            ["sleep gives an offline gain, wake does not (Walker et al. 2002)",
             f"+{sl['offline']:.3f} proficiency from the end of an evening session to 09:00 after a night "
             f"({100 * sl['offline'] / sl['session_gain']:.1f}% of the session's gain of {sl['session_gain']:.2f}); "
             f"{sl['wake_change']:+.3f} across 12 h awake"],
            ["savings on relearning (Ebbinghaus 1885; Smith et al. 2006)",
             f"{100 * sv['forgotten_share']:.0f}% of the gain lost after 30 days unpractised; relearning to the same "
             f"level needs {100 * sv['savings']:.0f}% fewer trials"]]),
        "",
        f"Practice-v0 ({n_learners} learners, default config: 4 skills, 12 levels, 40 trials a day for 7 days, "
        "test at difficulty 3.0, delayed test a week later); mean [95% bootstrap CI]:",
        "",
        *table_lines(["policy", "success rate", "proficiency at the end", "test score the morning after",
                      "test score a week later"],
                     [[policy, *(cell(policy, m) for m in ("success_rate", "proficiency_final", "knowledge_final",
                                                           "retention_delayed"))] for policy in by.index]),
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=256)
    parser.add_argument("--fact-learners", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/practice")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    try:
        check_writable(out, args.force, RESULT_FILES + FACT_FILES)
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    env, _ = make(ENV_ID)
    # Published rows, tuned rows (results/tuning, training learners) and the planner (in all_policies).
    tuned = tuned_policies(env, suite_tuning(ENV_ID, {}))
    df = evaluate(all_policies(env) + tuned, ENV_ID, n_learners=args.learners, seed=args.seed, progress=True)
    summary, board = write_results(df, out, force=args.force, reference=REFERENCE)  # ranked by the objective
    print(board)
    facts = measure_facts(args.fact_learners, args.seed)
    plot_facts(facts, out / "practice_facts.png")
    (out / "facts.md").write_text(facts_markdown(facts, summary, args.fact_learners, args.learners))
    print((out / "facts.md").read_text())
    print(f"wrote {out}/ in {time.perf_counter() - start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
