"""Practice-v0: choose which skill a learner practises next, and how hard."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import (Array, Box, Discrete, Environment, check_positive_int, check_range, cond_any,
                    item_obs, item_obs_high, pytree_dataclass, static_dataclass, time_days)
from ..learners import delayed_recall
from ..learners.skill import SKILL, SkillParams, skill_params

SKILL_FEATURES = ("trials", "successes", "last_level", "last_success", "last_rt_seconds", "recent_success",
                  "recent_rt_seconds", "days_since_practice")
GLOBAL_FEATURES = ("progress", "slot_of_day", "last_step_success", "last_step_rt_seconds")
#: Weight of the newest trial in the per-skill running averages the tutor keeps.
RECENT_WEIGHT = 0.2
#: Observed response times are clipped to this many seconds (keeps the observation space bounded).
MAX_RT_SECONDS = 3600.0


@static_dataclass
class PracticeConfig:
    """Static config of Practice-v0 (fixes shapes; hashable)."""

    n_skills: int = 4  # K skills to practise
    n_levels: int = 12  # L difficulty levels, evenly spaced from difficulty_min to difficulty_max
    trials_per_day: int = 40  # trials in each day's session
    n_days: int = 7  # course length in days (a night of sleep after each session)
    delay_days: int = 7  # delayed test this many days after the course, no practice in between

    @property
    def slots_per_day(self) -> int:
        """Steps per day (the harness's name for it)."""
        return self.trials_per_day

    def validate(self) -> None:
        for name in ("n_skills", "n_levels", "trials_per_day", "n_days"):
            check_positive_int(name, getattr(self, name))
        if isinstance(self.delay_days, bool) or not isinstance(self.delay_days, (int, np.integer)) \
                or self.delay_days < 0:
            raise ValueError(f"delay_days must be a non-negative integer, got {self.delay_days!r}")


@pytree_dataclass
class PracticeParams:
    """Dynamic params of Practice-v0 (a pytree: vmap over it for a population)."""

    learner: SkillParams  # the skill learner's traits
    difficulty_min: Array  # () difficulty of level 0 (difficulty units: proficiency at which p = 0.5)
    difficulty_max: Array  # () difficulty of level L-1
    test_difficulty: Array  # () difficulty of the final and delayed tests of every skill
    slot_minutes: Array  # () minutes between consecutive trials of a session
    hours_to_bed: Array  # () hours from the end of a session to sleep
    feedback_seconds: Array  # () seconds of feedback after each trial (added to its response time)
    cost_per_minute: Array  # () reward cost per minute of practice


@pytree_dataclass
class PracticeState:
    """Env state: the hidden skill learner plus what the tutor has recorded."""

    learner: Any  # hidden SkillState
    step: Array  # () int32 step counter; real time is derived from it
    trials: Array  # (K,) int32 trials per skill
    successes: Array  # (K,) int32 successes per skill
    last_level: Array  # (K,) int32 last level practised + 1 (0 = never)
    last_success: Array  # (K,) float32 outcome of the skill's last trial
    last_rt: Array  # (K,) float32 response time of the skill's last trial, seconds
    recent_success: Array  # (K,) float32 running average of the skill's outcomes
    recent_rt: Array  # (K,) float32 running average of the skill's response times
    last_time: Array  # (K,) float32 time of the skill's last trial, days
    last_step_success: Array  # () float32 outcome of the previous step's trial (0 if none)
    last_step_rt: Array  # () float32 response time of the previous step's trial (0 if none)
    proficiency: Array  # () mean latent proficiency now (for the reward)
    knowledge: Array  # () mean test score now
    knowledge_sum: Array  # () sum of knowledge over steps so far (for the AUC)
    study_seconds: Array  # () total practice time


class PracticeEnv(Environment[PracticeState, PracticeParams]):
    """Practice-v0: which skill to practise on each trial, and at what difficulty, so a learner masters
    every skill (accurate, fast and durable) for the least time.

    A course of ``n_days`` days with a session of ``trials_per_day`` trials a day (``slot_minutes``
    apart); the learner sleeps ``hours_to_bed`` hours after each session. The simulated learner
    (:mod:`studygym.envs.learners.skill`) has ``K = n_skills`` skills with a hidden proficiency each;
    a trial of skill ``k`` at level ``l`` (difficulty ``d_l``, levels evenly spaced from
    ``difficulty_min`` to ``difficulty_max``) succeeds with probability ``Phi((x_k - d_l) / noise)``
    and teaches most near 85% success (Wilson et al. 2019), little when too easy or too hard.

    - **Observation** ``Box(float32, (K * 8 + 4,))``: what a tutor sees, never the proficiency.
      Per skill (feature-major: 8 blocks of K): trials so far, successes, last level practised + 1 (0 never),
      last outcome (1 success), last response time (s), running averages of outcome and response
      time (weight 0.2 on the newest trial), days since last practice (0 if never). Then 4 globals:
      course progress ``step / (trials_per_day * n_days)``, trial of the day ``/ trials_per_day``,
      the previous step's outcome and response time (0 at the start). ``env.skill_layout`` gives the
      split (``(K, 8, 4)``).
    - **Action** ``Discrete(K * L)``, skill-major: action ``a`` practises skill ``a // L`` at level
      ``a % L`` (so ``a = skill * L + level``; ``env.decode_action(a)``/``env.encode_action(skill, level)``).
      Inside ``jit`` an out-of-range action runs no trial and sets ``info["invalid_action"]``; the
      Gymnasium adapter raises.
    - **Reward**: gain in mean proficiency over the skills (at the next trial), divided by the
      difficulty range ``difficulty_max - difficulty_min``, minus ``cost_per_minute`` x minutes of the
      trial (its response time plus ``feedback_seconds``). Summed over an episode: the proficiency
      gained (in ladder lengths) minus the practice time's cost. Nights change proficiency too
      (offline gains, fast-trace decay): that change is in the reward of the session's last trial.
    - **Termination**: ``terminated`` after ``trials_per_day * n_days`` steps; never truncated.
      ``step`` does not reset; use ``AutoReset``.
    - **State** :class:`PracticeState`: the learner's hidden :class:`~studygym.envs.learners.skill.SkillState`,
      the step counter and the tutor's per-skill records (arrays of shape ``(K,)``).
    - **Info** every step: ``knowledge`` (test score: mean success probability of the skills at
      ``test_difficulty``), ``skill``, ``level``, ``success``, ``rt_seconds``, ``success_prob`` (the
      trial's hidden success probability, for analysis only), ``invalid_action``, cumulative
      ``reviews`` (trials), ``study_minutes``, ``retrievals`` (= trials) and ``successes``; at the
      last step also ``knowledge_final`` (test score the morning after the course), ``knowledge_auc``,
      ``retention_delayed`` (test score ``delay_days`` later, no practice, nights slept),
      ``proficiency_final`` (mean latent proficiency), ``rt_final`` (mean expected response time of the
      skills, s) and ``automaticity`` (mean share of the practice curve's RT drop achieved); these
      are 0 before the end. ``env.extra_metrics`` names the last three for the harness.
    - **Science**: the 85% rule (Wilson, Shenhav, Straccia & Cohen 2019), fast/slow traces with
      sleep consolidation and savings (Smith et al. 2006; Walker et al. 2002), exponential practice
      curves (Heathcote, Brown & Mewhort 2000), interleaving (Shea & Morgan 1979); see
      :mod:`studygym.envs.learners.skill`.

    Example::

        >>> import jax, studygym
        >>> env, params = studygym.make("Practice-v0", n_skills=2, n_levels=6)
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> action = env.encode_action(1, 2)  # skill 1 at level 2
        >>> obs, state, reward, terminated, truncated, info = env.step(jax.random.key(1), state, action, params)
        >>> (int(info["skill"]), int(info["level"]))
        (1, 2)
    """

    #: Per-episode metrics beyond the harness's standard ones (read from the last step's info).
    extra_metrics = ("proficiency_final", "rt_final", "automaticity")

    def __init__(self, config: PracticeConfig | None = None):
        self.config = PracticeConfig() if config is None else config
        self.config.validate()
        self.learner = SKILL

    # -- params ------------------------------------------------------------------------------
    @property
    def default_params(self) -> PracticeParams:
        return PracticeParams(
            learner=skill_params(),
            difficulty_min=jnp.float32(-1.5),
            difficulty_max=jnp.float32(4.0),
            test_difficulty=jnp.float32(3.0),
            slot_minutes=jnp.float32(1.0),
            hours_to_bed=jnp.float32(1.0),
            feedback_seconds=jnp.float32(2.0),
            cost_per_minute=jnp.float32(0.002),
        )

    def validate_params(self, params: PracticeParams) -> None:
        check_range("difficulty_min", params.difficulty_min, -100.0, 100.0)
        check_range("difficulty_max", params.difficulty_max, params.difficulty_min, 100.0, low_open=True)
        check_range("test_difficulty", params.test_difficulty, -100.0, 100.0)
        check_range("slot_minutes", params.slot_minutes, 0.0, 24 * 60, low_open=True)
        check_range("hours_to_bed", params.hours_to_bed, 0.0, 24.0)
        check_range("feedback_seconds", params.feedback_seconds, 0.0, 3600.0)
        check_range("cost_per_minute", params.cost_per_minute, 0.0, None)
        self.learner.validate_params(params.learner, "learner")
        awake = self.config.trials_per_day * np.asarray(params.slot_minutes) / 60.0 + np.asarray(params.hours_to_bed)
        if np.any(awake + np.asarray(params.learner.sleep_hours) > 24.0):
            raise ValueError("slot_minutes * trials_per_day / 60 + hours_to_bed + learner.sleep_hours must be at most "
                             f"24 hours, got {float(np.max(awake + np.asarray(params.learner.sleep_hours))):.2f}")

    # -- time and actions ------------------------------------------------------------------------
    @property
    def max_steps(self) -> int:
        return self.config.trials_per_day * self.config.n_days

    @property
    def steps_per_day(self) -> int:
        return int(self.config.trials_per_day)

    def time(self, step: Array, params: PracticeParams) -> Array:
        """Real time in days at an integer step (sessions start at whole days; never accumulated)."""
        return time_days(step, self.config.trials_per_day, params.slot_minutes / 1440.0, jnp.float32(1.0))

    def bedtime_offset(self, params: PracticeParams) -> Array:
        """Days from the start of a day's session to that night's sleep."""
        return self.config.trials_per_day * params.slot_minutes / 1440.0 + params.hours_to_bed / 24.0

    def difficulties(self, params: PracticeParams) -> Array:
        """(L,) difficulty of each level."""
        return jnp.linspace(params.difficulty_min, params.difficulty_max, self.config.n_levels)

    def encode_action(self, skill: Any, level: Any) -> Any:
        """Action of practising ``skill`` at ``level`` (skill-major)."""
        return skill * self.config.n_levels + level

    def decode_action(self, action: Any) -> tuple[Any, Any]:
        """``(skill, level)`` of an action."""
        return action // self.config.n_levels, action % self.config.n_levels

    # -- spaces --------------------------------------------------------------------------------
    # The declared contract: the skills are the observation's items (obs_layout (K, 8, 4)); the
    # action is a skill x level grid, not an item choice, so there is no action_layout.
    family = "practice"
    item_features = SKILL_FEATURES
    global_features = GLOBAL_FEATURES
    action_layout = None

    @property
    def n_obs_items(self) -> int:
        return int(self.config.n_skills)

    @property
    def skill_layout(self) -> tuple[int, int, int]:
        """(skills, per-skill features, global features): ``obs[:K*F].reshape(F, K)`` are the skill
        features (feature-major, as every item env), ``obs[K*F:]`` the globals; ``obs_layout``."""
        return self.obs_layout

    def observation_space(self, params: PracticeParams | None = None) -> Box:
        cfg = self.config
        steps = float(self.max_steps)
        skill_high = np.array([steps, steps, cfg.n_levels, 1.0, MAX_RT_SECONDS, 1.0, MAX_RT_SECONDS,
                               cfg.n_days + 1.0], np.float32)
        high = item_obs_high(skill_high, cfg.n_skills, [1.0, 1.0, 1.0, MAX_RT_SECONDS])
        return Box(0.0, high, (high.size,))

    def action_space(self, params: PracticeParams | None = None) -> Discrete:
        return Discrete(self.config.n_skills * self.config.n_levels)

    # -- dynamics ------------------------------------------------------------------------------
    def reset_env(self, key: Array, params: PracticeParams) -> tuple[Array, PracticeState]:
        k = self.config.n_skills
        learner_state = self.learner.init(key, params.learner, k)
        zeros_f, zeros_i = jnp.zeros(k, jnp.float32), jnp.zeros(k, jnp.int32)
        state = PracticeState(
            learner=learner_state,
            step=jnp.int32(0),
            trials=zeros_i,
            successes=zeros_i,
            last_level=zeros_i,
            last_success=zeros_f,
            last_rt=zeros_f,
            recent_success=zeros_f,
            recent_rt=zeros_f,
            last_time=zeros_f,
            last_step_success=jnp.float32(0.0),
            last_step_rt=jnp.float32(0.0),
            proficiency=jnp.mean(self.learner.proficiency(learner_state, params.learner)),
            knowledge=jnp.float32(0.0),
            knowledge_sum=jnp.float32(0.0),
            study_seconds=jnp.float32(0.0),
        )
        return self.get_obs(state, params), state

    def step_env(self, key: Array, state: PracticeState, action: Any, params: PracticeParams):
        cfg, learner = self.config, self.learner
        n_actions = cfg.n_skills * cfg.n_levels
        action = jnp.asarray(action).astype(jnp.int32)
        invalid = (action < 0) | (action >= n_actions)
        skill, level = self.decode_action(jnp.clip(action, 0, n_actions - 1))
        difficulty = self.difficulties(params)[level]
        now = self.time(state.step, params)

        success_prob = learner.success_prob(state.learner, skill, difficulty, params.learner)
        success, rt, practiced = learner.practice(key, state.learner, skill, difficulty, now, params.learner)
        learner_state = jax.tree.map(lambda old, new: jnp.where(invalid, old, new), state.learner, practiced)
        done = ~invalid
        rt = jnp.where(done, jnp.minimum(rt, MAX_RT_SECONDS), 0.0)
        outcome = (done & success).astype(jnp.float32)
        seconds = jnp.where(done, rt + params.feedback_seconds, 0.0)

        next_step = state.step + 1
        t_next = self.time(next_step, params)
        new_day = next_step % cfg.trials_per_day == 0
        learner_state = cond_any(new_day, self._night, self._no_night, learner_state, now, params)
        learner_state = learner.elapse(learner_state, t_next, params.learner)
        proficiency = jnp.mean(learner.proficiency(learner_state, params.learner))
        knowledge = jnp.mean(learner.test_prob(learner_state, params.test_difficulty, params.learner))
        reward = ((proficiency - state.proficiency) / (params.difficulty_max - params.difficulty_min)
                  - params.cost_per_minute * seconds / 60.0)

        # Per-skill records: the scatter goes to index K (dropped) when no trial ran.
        target = jnp.where(done, skill, cfg.n_skills)
        first = state.trials[skill] == 0
        recent_success = jnp.where(first, outcome, state.recent_success[skill]
                                   + RECENT_WEIGHT * (outcome - state.recent_success[skill]))
        recent_rt = jnp.where(first, rt, state.recent_rt[skill] + RECENT_WEIGHT * (rt - state.recent_rt[skill]))
        new_state = PracticeState(
            learner=learner_state,
            step=next_step,
            trials=state.trials.at[target].add(1, mode="drop"),
            successes=state.successes.at[target].add(outcome.astype(jnp.int32), mode="drop"),
            last_level=state.last_level.at[target].set(level + 1, mode="drop"),
            last_success=state.last_success.at[target].set(outcome, mode="drop"),
            last_rt=state.last_rt.at[target].set(rt, mode="drop"),
            recent_success=state.recent_success.at[target].set(recent_success, mode="drop"),
            recent_rt=state.recent_rt.at[target].set(recent_rt, mode="drop"),
            last_time=state.last_time.at[target].set(now, mode="drop"),
            last_step_success=outcome,
            last_step_rt=rt,
            proficiency=proficiency,
            knowledge=knowledge,
            knowledge_sum=state.knowledge_sum + knowledge,
            study_seconds=state.study_seconds + seconds,
        )
        terminated = next_step >= self.max_steps
        retention = cond_any(terminated, self._retention_delayed, self._no_retention, learner_state, t_next, params)
        total_trials = jnp.sum(new_state.trials)
        info = {
            "knowledge": knowledge,
            "skill": skill,
            "level": level,
            "success": outcome,
            "rt_seconds": rt,
            "success_prob": jnp.where(done, success_prob, 0.0),
            "invalid_action": invalid,
            "reviews": total_trials,
            "study_minutes": new_state.study_seconds / 60.0,
            "retrievals": total_trials,
            "successes": jnp.sum(new_state.successes),
            "knowledge_final": jnp.where(terminated, knowledge, 0.0),
            "knowledge_auc": jnp.where(terminated, new_state.knowledge_sum / self.max_steps, 0.0),
            "retention_delayed": retention,
            "proficiency_final": jnp.where(terminated, proficiency, 0.0),
            "rt_final": jnp.where(terminated, jnp.mean(learner.expected_rt(learner_state, params.learner)), 0.0),
            "automaticity": jnp.where(terminated, jnp.mean(learner.automaticity(learner_state, params.learner)), 0.0),
        }
        return self.get_obs(new_state, params), new_state, reward, terminated, jnp.bool_(False), info

    # Branches of step_env's cond_any: pure functions of their operands (no captured tracers).
    def _night(self, learner_state: Any, now: Array, params: PracticeParams) -> Any:
        day_start = jnp.floor(now)
        bedtime = day_start + self.bedtime_offset(params)
        return self.learner.sleep(learner_state, bedtime, params.learner)

    def _no_night(self, learner_state: Any, now: Array, params: PracticeParams) -> Any:
        return learner_state

    def _retention_delayed(self, learner_state: Any, t_next: Array, params: PracticeParams) -> Array:
        test = _TestView(params.test_difficulty)
        return jnp.mean(delayed_recall(test, learner_state, t_next, self.config.delay_days, params.learner,
                                       self.bedtime_offset(params)))

    def _no_retention(self, learner_state: Any, t_next: Array, params: PracticeParams) -> Array:
        return jnp.zeros((), jnp.float32)

    def get_obs(self, state: PracticeState, params: PracticeParams) -> Array:
        cfg = self.config
        now = self.time(state.step, params)
        practised = state.trials > 0
        since = jnp.where(practised, now - state.last_time, 0.0)
        columns = [state.trials, state.successes, state.last_level, state.last_success, state.last_rt,
                   state.recent_success, state.recent_rt, since]
        progress = state.step.astype(jnp.float32) / self.max_steps
        slot = (state.step % cfg.trials_per_day).astype(jnp.float32) / cfg.trials_per_day
        glob = jnp.stack([progress, slot, state.last_step_success, state.last_step_rt])
        return item_obs(columns, glob)


class _TestView:
    """The skill learner seen through the item-learner calls ``delayed_recall`` makes: "recall" of
    each skill is its test score at ``difficulty``."""

    def __init__(self, difficulty: Array):
        self.difficulty = difficulty

    def elapse(self, state, now, params):
        return SKILL.elapse(state, now, params)

    def sleep(self, state, now, params):
        return SKILL.sleep(state, now, params)

    def recall_prob(self, state, now, params):
        return SKILL.test_prob(state, self.difficulty, params)


__all__ = ["PracticeEnv", "PracticeConfig", "PracticeParams", "PracticeState", "SKILL_FEATURES", "GLOBAL_FEATURES"]
