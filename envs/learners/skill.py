"""The skill learner: practising K skills at a chosen difficulty (optimal challenge, automaticity).

This is *not* the item :class:`~studygym.envs.learners.base.Learner` protocol (which recalls items
and grades them). A skill learner has K skills, each with a latent **proficiency** ``x`` in
difficulty units; a trial practises one skill at one difficulty ``d`` and ends in a success or a
failure and a response time. Its protocol (pure, jittable functions over :class:`SkillState`)::

    init(key, params, n_skills)                          -> SkillState     (samples one learner)
    proficiency(state, params)                           -> (K,) x         (what a perfect test sees)
    success_prob(state, skills, difficulty, params)      -> p              (performance on a trial)
    expected_rt(state, params)                           -> (K,) seconds   (mean response time now)
    practice(key, state, skill, difficulty, now, params) -> (success, rt_seconds, state)
    elapse(state, now, params)                           -> state          (wake time passing)
    sleep(state, now, params)                            -> state          (a night: offline gain)

**Performance.** Success on a trial at difficulty ``d`` has probability
``p = Phi(z)``, ``z = (x + priming - d) / noise`` (Gaussian decision noise, as in Wilson et al. 2019).
``priming`` is a short-lived boost when the previous trial (same session) practised the same skill:
blocked practice *performs* better than it *learns* (Soderstrom & Bjork 2015) [D].

**Learning: the 85% rule.** A trial's gain is ``eta * f(z)`` with
``f(z) = max(z, 0) * phi(z) / phi(1)``: the expected gradient of Wilson, Shenhav, Straccia & Cohen
(2019, Nat Commun 10:4646), largest (``f = 1``) at ``z = 1``, i.e. success probability
``Phi(1) = 0.841`` (error rate 15.87%), small when too easy (``p -> 1``) and zero at or below chance
(``p <= 0.5``: nothing to learn from a trial one cannot discriminate). ``f = 0.41, 0.89, 1.00,
0.93, 0.53`` at ``p = 0.6, 0.75, 0.85, 0.9, 0.97`` (``docs/science.md`` s5; "science.md sN" below).

**Fast and slow traces** (Smith, Ghazizadeh & Shadmehr 2006, PLoS Biol 4:e179): the gain is split
between a fast trace ``x_fast`` (share ``fast_share``) that decays during wake with time constant
``fast_tau_hours``, and a slow trace ``x_slow`` that is forgotten over weeks (``slow_tau_days``)
when the skill is not practised. ``x = x_init + x_slow + x_fast``. At **sleep** part of the fast
trace is consolidated into the slow one and the rest is downscaled::

    x_slow += sleep_transfer * x_fast;   x_fast *= sleep_retention

so with ``sleep_transfer + sleep_retention > 1`` proficiency is higher on waking than at bedtime:
an *offline gain* (Walker et al. 2002, Neuron 35:205: +20% speed overnight, none across wake;
treat that as an upper bound, Pan & Rickard 2015). Relearning a skill whose performance has
decayed is faster than learning it the first time, because the slow trace remains (**savings**,
Ebbinghaus 1885; Smith et al. 2006).

**Interleaving** (Shea & Morgan 1979; Kornell & Bjork 2008): skills come in clusters of
``cluster_size`` similar skills (0-1, 2-3, ... by default). Switching to a *different skill of the
same cluster* multiplies the slow-trace gain by ``1 + interleave_gain`` (discrimination between
similar skills), while repeating a skill primes performance: blocked practice looks better during
practice, interleaved practice is better at a delayed test [D magnitudes].

**Discrimination: choosing the strategy** (Rohrer, Dedrick & Burgess 2014, Psychon Bull Rev
21:1323, introduction and discussion): solving a problem takes two steps, choosing the
strategy (which skill applies) and executing it. Blocked practice lets the learner "safely assume
that each problem will require the same strategy as the previous problem" (Rohrer et al. 2014), so
the choice is made, and trained, only on a trial whose skill differs from the previous trial's (a
*switch*; the first trial after a night is not one). Each switch to skill ``k`` adds one to its
discrimination practice ``D_k`` (forgotten like the slow trace, ``slow_tau_days``). The learner
picks the right strategy with probability::

    q_k = 1 - e * exp(-D_k / discrimination_trials)

where ``e`` is this learner's initial choice-error rate (``choice_error`` times a log-normal
multiplier with SD ``choice_error_sd``, clipped to 1) [D form]. A switch trial succeeds with
probability ``q_k * Phi(z)``; a *mixed test* (problems of every kind in random order, as in Rohrer
et al.'s unannounced test) scores ``q_k * Phi(z)`` (:meth:`SkillLearner.mixed_test_prob`); a test
of one skill at a time (:meth:`SkillLearner.test_prob`, Practice-v0's tests) needs no choice.
``choice_error = 0`` (the default) switches the mechanism off: ``q = 1`` and the learner is the one
without it, draw for draw. Fitted values: :data:`PRESETS` ``"calibrated"``.

**Sleep-dependent offline speed gain** (Walker, Brakefield, Morgan, Hobson & Stickgold 2002,
Neuron 35:205: "a night of sleep results in a 20% increase in motor speed without loss of accuracy,
while an equivalent period of time during wake provides no significant benefit"; Fischer,
Hallschmid, Elsner & Born 2002, PNAS 99:11987: sleep after practice enhanced speed by 33.5% compared
with wake): the trials practised since the last night, ``P_k``, are consolidated at sleep into a
sequence-specific speed-up ``c_k`` in [0, 1], saturating in the practice done [D form; Walker,
Brakefield, Seidman, Morgan, Hobson & Stickgold 2003, Learn Mem 10:275, abstract: "doubling the
quantity of initial training does not alter the amount of subsequent sleep-dependent learning", and
most of it develops in the first night, hence the saturation]::

    c_k += (1 - c_k) * (1 - exp(-P_k / motor_sleep_trials));   P_k = 0
    RT  *= 1 - motor_sleep_gain * c_k

Nothing happens across wake (``P_k`` waits for the next night). A simplification: a later night without
new practice adds nothing, where Walker et al. (2003) report smaller continued gains. ``motor_sleep_gain = 0`` (the
default) switches it off. Fitted value: :data:`PRESETS` ``"calibrated"``.

**Response times** follow an exponential practice curve per learner and skill
(Heathcote, Brown & Mewhort 2000, PB&R 7:185: the exponential fits individuals better than the power
law)::

    RT = (rt_floor + rt_range * exp(-N / rt_tau_trials)) * (1 - motor_sleep_gain * c),   N = trials so far

times log-normal trial noise (``rt_noise``), so skills become fast and automatic with practice.

**Population.** Each learner draws a learning-rate multiplier (log-normal, ``learning_rate_sd``),
its own RT curve (``rt_floor_sd``, ``rt_tau_sd``, log-normal) and an initial proficiency per skill
(normal, ``initial_proficiency_mean`` / ``_sd``), so a population is a vmap over keys.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

from ..core import Array, check_range, pytree_dataclass
from .base import LearnerBase

#: phi(1), the peak of z * phi(z): normalises the learning factor to 1 at the optimum.
_PHI_1 = float(norm.pdf(1.0))


@pytree_dataclass
class SkillParams:
    """Traits of a skill-learner population. Units in brackets; [D] marks a design choice."""

    learning_rate: Array  # () eta [difficulty units per trial] gain of a trial at the optimal challenge [D]
    noise: Array  # () [difficulty units] SD of the Gaussian decision noise (Wilson et al. 2019); 1
    fast_share: Array  # () [0..1] share of a trial's gain that goes to the fast trace; 0.5 [D]
    fast_tau_hours: Array  # () [h] time constant of the fast trace's decay during wake; 12 h [D]
    slow_tau_days: Array  # () [days] time constant of forgetting of the slow trace when unpractised; 60 d [D]
    sleep_transfer: Array  # () q_sleep [1] share of the fast trace consolidated into the slow one per night
    #   (science.md s5: x_s += q_sleep * x_f); 1.0 [D]
    sleep_retention: Array  # () rho [1] share of the fast trace kept after a night (downscaling); 0.4 [D]
    sleep_hours: Array  # () [h] night length; the fast trace does not decay while asleep; 8 h
    priming: Array  # () [difficulty units] performance boost when the previous trial was the same skill; 0.3 [D]
    interleave_gain: Array  # () [1] extra slow-trace gain when switching between similar skills; 0.3 [D]
    cluster_size: Array  # () [skills] consecutive skills forming a cluster of similar skills; 2 [D]
    rt_floor: Array  # () A [s] asymptotic response time of a fully automatic skill; 0.8 s [D]
    rt_range: Array  # () B [s] response time a novice loses with practice; 2.5 s [D]
    rt_tau_trials: Array  # () tau [trials] practice needed to lose 63% of rt_range; 25 [D]
    rt_noise: Array  # () [1] SD of the log-normal trial-to-trial RT noise; 0.25 [D]
    initial_proficiency_mean: Array  # () [difficulty units] mean initial proficiency per skill; 0
    initial_proficiency_sd: Array  # () [difficulty units] SD of initial proficiency across skills/learners; 0.5
    learning_rate_sd: Array  # () SD of the log learning-rate multiplier across learners; 0.3 [D]
    rt_floor_sd: Array  # () SD of the log multiplier on rt_floor and rt_range across learners; 0.2 [D]
    rt_tau_sd: Array  # () SD of the log multiplier on rt_tau_trials across learners; 0.3 [D]
    choice_error: Array  # () e [0..1] a novice's chance of choosing the wrong strategy on a switch trial or a
    #   mixed test (Rohrer et al. 2014); 0 = no discrimination step (default) [fitted in "calibrated"]
    choice_error_sd: Array  # () SD of the log multiplier on choice_error across learners [fitted]
    discrimination_trials: Array  # () [trials] switch trials that cut the choice error by 63% [fitted]
    motor_sleep_gain: Array  # () g [0..1) share of the response time removed once a skill's practice is fully
    #   consolidated by sleep (Walker et al. 2002; Fischer et al. 2002); 0 = off (default) [fitted in "calibrated"]
    motor_sleep_trials: Array  # () [trials] practice since the last night that saturates 63% of a night's
    #   consolidation; 30 [D]


@pytree_dataclass
class SkillState:
    """One skill learner (hidden from policies)."""

    x_init: Array  # (K,) initial proficiency
    x_slow: Array  # (K,) slow trace: durable gain above x_init
    x_fast: Array  # (K,) fast trace: labile gain
    trials: Array  # (K,) int32 trials practised per skill (drives the RT curve)
    last_skill: Array  # () int32 skill of the previous trial this session (-1: none, e.g. after a night)
    clock: Array  # () days: the time up to which the traces have been aged
    learn_mult: Array  # () this learner's learning-rate multiplier
    rt_floor: Array  # () this learner's asymptotic RT, seconds
    rt_range: Array  # () this learner's RT range, seconds
    rt_tau: Array  # () this learner's RT time constant, trials
    choice_error: Array  # () this learner's initial choice-error rate e
    discrimination: Array  # (K,) D: switch trials into each skill (forgotten like the slow trace)
    since_sleep: Array  # (K,) P: trials practised since the last night (consolidated at the next one)
    motor_consolidated: Array  # (K,) c in [0, 1]: sleep-consolidated share of the speed-up


DEFAULTS = dict(
    learning_rate=0.08, noise=1.0, fast_share=0.5, fast_tau_hours=12.0, slow_tau_days=60.0,
    sleep_transfer=1.0, sleep_retention=0.4, sleep_hours=8.0, priming=0.3, interleave_gain=0.3, cluster_size=2.0,
    rt_floor=0.8, rt_range=2.5, rt_tau_trials=25.0, rt_noise=0.25,
    initial_proficiency_mean=0.0, initial_proficiency_sd=0.5,
    learning_rate_sd=0.3, rt_floor_sd=0.2, rt_tau_sd=0.3,
    choice_error=0.0, choice_error_sd=0.0, discrimination_trials=10.0, motor_sleep_gain=0.0, motor_sleep_trials=30.0,
)

#: Named parameter sets. ``"default"``: the learner behind Practice-v0 (the discrimination and motor-sleep
#: mechanisms off). ``"calibrated"``: both mechanisms on, their parameters fitted to the skill experiments
#: of ``studygym replicate`` (Walker et al. 2002, Fischer et al. 2002, Rohrer et al. 2014) by
#: ``scripts/fit_skill_replications.py``; the fit, its grid and its loss are in
#: ``results/science/skill_fit.json``. Every other field keeps its default.
PRESETS: dict[str, dict[str, float]] = {
    "default": {},
    "calibrated": dict(choice_error=0.8, choice_error_sd=1.0, discrimination_trials=15.0, motor_sleep_gain=0.18),
}

#: (field, low, high, low_open) for every field.
_RANGES = (
    ("learning_rate", 0.0, 10.0, False), ("noise", 0.0, 100.0, True), ("fast_share", 0.0, 1.0, False),
    ("fast_tau_hours", 0.0, 1e5, True), ("slow_tau_days", 0.0, 1e6, True), ("sleep_transfer", 0.0, 10.0, False),
    ("sleep_retention", 0.0, 1.0, False), ("sleep_hours", 0.0, 24.0, False), ("priming", 0.0, 10.0, False),
    ("interleave_gain", 0.0, 10.0, False), ("cluster_size", 1.0, 1e6, False), ("rt_floor", 0.0, 600.0, True),
    ("rt_range", 0.0, 600.0, False), ("rt_tau_trials", 0.0, 1e6, True), ("rt_noise", 0.0, 3.0, False),
    ("initial_proficiency_mean", -100.0, 100.0, False), ("initial_proficiency_sd", 0.0, 100.0, False),
    ("learning_rate_sd", 0.0, 3.0, False), ("rt_floor_sd", 0.0, 3.0, False), ("rt_tau_sd", 0.0, 3.0, False),
    ("choice_error", 0.0, 1.0, False), ("choice_error_sd", 0.0, 3.0, False), ("discrimination_trials", 0.0, 1e6, True),
    ("motor_sleep_gain", 0.0, 0.99, False), ("motor_sleep_trials", 0.0, 1e6, True),
)


def skill_params(**overrides) -> SkillParams:
    """Default params with ``overrides`` (unknown names raise ``ValueError``)."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown SkillParams field(s) {unknown}; known: {', '.join(DEFAULTS)}")
    return SkillParams(**{k: jnp.asarray(v, jnp.float32) for k, v in {**DEFAULTS, **overrides}.items()})


def skill_preset(name: str = "default", **overrides) -> SkillParams:
    """The named parameter set of :data:`PRESETS` with ``overrides`` (unknown names raise ``ValueError``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown skill preset {name!r}; known: {', '.join(PRESETS)}")
    return skill_params(**{**PRESETS[name], **overrides})


def learning_factor(z: Array) -> Array:
    """Wilson et al.'s per-trial learning factor ``max(z, 0) * phi(z) / phi(1)`` (1 at ``p = Phi(1)``)."""
    z = jnp.maximum(z, 0.0)
    return z * jnp.exp(0.5 * (1.0 - z * z))  # = z * phi(z) / phi(1)


class SkillLearner(LearnerBase):
    """The skill learner (see the module docstring for the maths)."""

    name = "skill"
    Params = SkillParams
    State = SkillState

    def default_params(self) -> SkillParams:
        return skill_params()

    def validate_params(self, params: SkillParams, prefix: str = "learner") -> None:
        for name, low, high, low_open in _RANGES:
            check_range(f"{prefix}.{name}", getattr(params, name), low, high, low_open=low_open)

    def init(self, key: Array, params: SkillParams, n_skills: int) -> SkillState:
        key_x, key_lr, key_floor, key_tau = jax.random.split(key, 4)
        # Its own stream (folded from the key), so every other trait is drawn as without the mechanism.
        key_choice = jax.random.fold_in(key, 7)
        sd = params.choice_error_sd
        choice_error = params.choice_error * jnp.exp(sd * jax.random.normal(key_choice, ()) - 0.5 * sd * sd)
        x_init = params.initial_proficiency_mean + params.initial_proficiency_sd * jax.random.normal(key_x, (n_skills,))
        rt_mult = jnp.exp(params.rt_floor_sd * jax.random.normal(key_floor, ()))
        zeros = jnp.zeros(n_skills, jnp.float32)
        return SkillState(
            x_init=x_init.astype(jnp.float32),
            x_slow=zeros,
            x_fast=zeros,
            trials=jnp.zeros(n_skills, jnp.int32),
            last_skill=jnp.int32(-1),
            clock=jnp.float32(0.0),
            learn_mult=jnp.exp(params.learning_rate_sd * jax.random.normal(key_lr, ())),
            rt_floor=params.rt_floor * rt_mult,
            rt_range=params.rt_range * rt_mult,
            rt_tau=params.rt_tau_trials * jnp.exp(params.rt_tau_sd * jax.random.normal(key_tau, ())),
            choice_error=jnp.minimum(choice_error, 1.0).astype(jnp.float32),
            discrimination=zeros,
            since_sleep=zeros,
            motor_consolidated=zeros,
        )

    # -- what a test would show -------------------------------------------------------------------
    def proficiency(self, state: SkillState, params: SkillParams) -> Array:
        return state.x_init + state.x_slow + state.x_fast

    def z_score(self, state: SkillState, skills: Array, difficulty: Array, params: SkillParams) -> Array:
        """``(x + priming - d) / noise`` of ``skills`` at ``difficulty`` (priming if the previous
        trial practised the same skill)."""
        primed = jnp.where(state.last_skill == skills, params.priming, 0.0)
        return (self.proficiency(state, params)[skills] + primed - difficulty) / params.noise

    def success_prob(self, state: SkillState, skills: Array, difficulty: Array, params: SkillParams) -> Array:
        return norm.cdf(self.z_score(state, skills, difficulty, params))

    def test_prob(self, state: SkillState, difficulty: Array, params: SkillParams) -> Array:
        """(K,) success probability of every skill at ``difficulty`` in a test (no priming)."""
        return norm.cdf((self.proficiency(state, params) - difficulty) / params.noise)

    def choice_prob(self, state: SkillState, params: SkillParams) -> Array:
        """(K,) probability of choosing the right strategy for a problem of each skill when its kind is
        not given (a switch trial, a mixed test): ``1 - e * exp(-D / discrimination_trials)``."""
        return 1.0 - state.choice_error * jnp.exp(-state.discrimination / params.discrimination_trials)

    def mixed_test_prob(self, state: SkillState, difficulty: Array, params: SkillParams) -> Array:
        """(K,) success probability of every skill at ``difficulty`` in a mixed test (problems of every
        kind in random order, so each needs the strategy chosen): ``choice_prob * test_prob``."""
        return self.choice_prob(state, params) * self.test_prob(state, difficulty, params)

    def expected_rt(self, state: SkillState, params: SkillParams) -> Array:
        """(K,) mean response time (seconds) of each skill now: the exponential practice curve, sped up
        by the sleep-consolidated share ``c`` (``1 - motor_sleep_gain * c``)."""
        curve = state.rt_floor + state.rt_range * jnp.exp(-state.trials.astype(jnp.float32) / state.rt_tau)
        return curve * (1.0 - params.motor_sleep_gain * state.motor_consolidated)

    def automaticity(self, state: SkillState, params: SkillParams) -> Array:
        """(K,) share of the learnable RT drop achieved, ``1 - exp(-N / tau)`` (0 novice, 1 automatic)."""
        return 1.0 - jnp.exp(-state.trials.astype(jnp.float32) / state.rt_tau)

    # -- events --------------------------------------------------------------------------------------
    def practice(self, key: Array, state: SkillState, skill: Array, difficulty: Array, now: Array,
                 params: SkillParams) -> tuple[Array, Array, SkillState]:
        """One trial of ``skill`` at ``difficulty`` at time ``now``: ``(success, rt_seconds, state)``."""
        key_outcome, key_rt = jax.random.split(key)
        state = self.elapse(state, now, params)
        skill = jnp.asarray(skill, jnp.int32)
        z = self.z_score(state, skill, difficulty, params)
        switched = (state.last_skill >= 0) & (state.last_skill != skill)
        choice = jnp.where(switched, self.choice_prob(state, params)[skill], 1.0)
        success = jax.random.uniform(key_outcome) < choice * norm.cdf(z)
        rt_noise = params.rt_noise * jax.random.normal(key_rt) - 0.5 * params.rt_noise ** 2  # mean 1
        rt = self.expected_rt(state, params)[skill] * jnp.exp(rt_noise)
        gain = params.learning_rate * state.learn_mult * learning_factor(z)
        cluster = jnp.floor(skill / jnp.round(params.cluster_size))
        last_cluster = jnp.floor(state.last_skill / jnp.round(params.cluster_size))
        switched_within = switched & (cluster == last_cluster)
        slow_gain = (1.0 - params.fast_share) * gain * (1.0 + params.interleave_gain * switched_within)
        state = state.replace(
            x_fast=state.x_fast.at[skill].add(params.fast_share * gain),
            x_slow=state.x_slow.at[skill].add(slow_gain),
            trials=state.trials.at[skill].add(1),
            last_skill=skill,
            discrimination=state.discrimination.at[skill].add(switched.astype(jnp.float32)),
            since_sleep=state.since_sleep.at[skill].add(1.0),
        )
        return success, rt, state

    def elapse(self, state: SkillState, now: Array, params: SkillParams) -> SkillState:
        """Age both traces from ``state.clock`` to ``now`` (no-op for ``now <= clock``)."""
        dt = jnp.maximum(jnp.asarray(now, jnp.float32) - state.clock, 0.0)
        return state.replace(
            x_fast=state.x_fast * jnp.exp(-dt * 24.0 / params.fast_tau_hours),
            x_slow=state.x_slow * jnp.exp(-dt / params.slow_tau_days),
            discrimination=state.discrimination * jnp.exp(-dt / params.slow_tau_days),
            clock=jnp.maximum(state.clock, jnp.asarray(now, jnp.float32)),
        )

    def sleep(self, state: SkillState, now: Array, params: SkillParams) -> SkillState:
        """A night starting at ``now`` (``sleep_hours`` long): consolidate the fast trace into the slow
        one and the practice since the last night into the speed-up; the learner wakes at
        ``now + sleep_hours`` with no priming left."""
        state = self.elapse(state, now, params)
        wake = jnp.asarray(now, jnp.float32) + params.sleep_hours / 24.0
        night = params.sleep_hours / 24.0
        return state.replace(
            x_slow=(state.x_slow + params.sleep_transfer * state.x_fast) * jnp.exp(-night / params.slow_tau_days),
            x_fast=params.sleep_retention * state.x_fast,
            last_skill=jnp.int32(-1),
            clock=wake,
            discrimination=state.discrimination * jnp.exp(-night / params.slow_tau_days),
            motor_consolidated=state.motor_consolidated + (1.0 - state.motor_consolidated)
            * (1.0 - jnp.exp(-state.since_sleep / params.motor_sleep_trials)),
            since_sleep=jnp.zeros_like(state.since_sleep),
        )


SKILL = SkillLearner()


def practice_session(key: Array, state: SkillState, params: SkillParams, skills: Array, target_z: Array,
                     fixed_difficulty: Array, start: Array, minutes_per_trial: float = 1.0):
    """One learner practises ``skills[t]`` on trial ``t`` (``minutes_per_trial`` apart from ``start``,
    days) at the difficulty that puts the trial's z-score at ``target_z`` (success probability
    ``Phi(target_z)``), or at ``fixed_difficulty`` where ``target_z`` is NaN: the protocol of the
    stylized-fact tests and of ``scripts/run_practice.py``. Returns the final state and per-trial
    ``(success, rt_seconds, proficiency of the practised skill after the trial)``."""

    def trial(state, inputs):
        t, skill = inputs
        z_at_zero = SKILL.z_score(state, skill, 0.0, params)
        difficulty = jnp.where(jnp.isnan(target_z), fixed_difficulty, params.noise * (z_at_zero - target_z))
        success, rt, state = SKILL.practice(jax.random.fold_in(key, t), state, skill, difficulty,
                                            start + t * minutes_per_trial / 1440.0, params)
        return state, (success, rt, SKILL.proficiency(state, params)[skill])

    skills = jnp.asarray(skills, jnp.int32)
    return jax.lax.scan(trial, state, (jnp.arange(skills.shape[0]), skills))

__all__ = ["SKILL", "SkillLearner", "practice_session", "SkillParams", "SkillState", "skill_params", "skill_preset",
           "learning_factor", "DEFAULTS", "PRESETS"]
