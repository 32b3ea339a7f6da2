"""Mechanisms the replications (``studygym replicate``) asked for, each off in ``lab_novice``: a learner's
encoding ability (between-learner spread), acquisition at weaker encoding, forgetting of the encoded
share, a within-session retrieval gain, and retrieval as online consolidation. Each test checks the behaviour,
and that the default is the identity (so lab_novice results do not move)."""

import jax
import numpy as np
import pytest

from studygym.envs.learners.brain import BRAIN, acquisition, brain_preset

from cohort import Cohort, at

ITEMS = list(range(20))


def test_encoding_ability_is_its_own_stream_and_off_by_default():
    """lab_novice draws no ability spread, and turning it on leaves every other learner trait as it was."""
    keys = jax.random.split(jax.random.key(3), 64)
    init = jax.vmap(BRAIN.init, in_axes=(0, None, None))
    lab = init(keys, brain_preset("lab_novice"), 4)
    spread = init(keys, brain_preset("lab_novice", encoding_sd=0.8), 4)
    np.testing.assert_array_equal(np.asarray(lab.encoding_mult), 1.0)
    np.testing.assert_array_equal(np.asarray(lab.forget_mult), np.asarray(spread.forget_mult))
    np.testing.assert_array_equal(np.asarray(lab.difficulty), np.asarray(spread.difficulty))
    log_mult = np.log(np.asarray(spread.encoding_mult))
    assert 0.6 < log_mult.std() < 1.0 and abs(log_mult.mean()) < 0.25


def _learner_means(**overrides) -> np.ndarray:
    cohort = Cohort(encoding_strength=0.4, acquisition_rate=0.5, **overrides)
    cohort.practice(at(0, 10), ITEMS).practice(at(0, 10.1), ITEMS)
    return cohort.recall(at(0, 22), ITEMS).mean(axis=1)


def test_encoding_ability_spreads_learners_scores():
    """People differ in how much one exposure lays down: with encoding_sd the spread of learners' mean
    recall grows several-fold, which is what brings standardised effect sizes (Hedges' g) down to the
    papers' (the spread of scores sets g's denominator)."""
    alike, spread = _learner_means(encoding_sd=0.0), _learner_means(encoding_sd=0.6)
    assert spread.std() > 2.0 * alike.std()
    assert abs(np.median(spread) - np.median(alike)) < 0.1


def test_weaker_encoding_acquires_less_only_when_acquisition_is_gradual():
    """An exposure at a fraction r of the base encoding acquires 1 - (1 - c)^r: c at full strength, less
    at weaker encoding (divided attention, sleep pressure), and 1 whatever r when c = 1 (lab_novice)."""
    lab = brain_preset("lab_novice")
    for ratio in (0.3, 1.0):
        assert float(acquisition(ratio * lab.encoding_strength, lab)) == pytest.approx(1.0)
    gradual = brain_preset("lab_novice", acquisition_rate=0.5)
    assert float(acquisition(gradual.encoding_strength, gradual)) == pytest.approx(0.5)
    assert float(acquisition(0.5 * gradual.encoding_strength, gradual)) == pytest.approx(1 - 0.5 ** 0.5, rel=1e-5)
    # Through the protocol: divided attention at study lowers immediate recall when c < 1.
    full = Cohort(acquisition_rate=0.5).restudy(at(0, 10), ITEMS).recall(at(0, 10.05), ITEMS).mean()
    divided = (Cohort(acquisition_rate=0.5, attention=0.2).restudy(at(0, 10), ITEMS)
               .recall(at(0, 10.05), ITEMS).mean())
    assert divided < full - 0.05


def _stability_after_retrievals(share: float, gap_hours: float) -> np.ndarray:
    cohort = Cohort(acquisition_rate=0.6, same_day_retrieval_share=share)
    cohort.practice(at(0, 9), ITEMS)
    cohort.practice(at(0, 9 + gap_hours), ITEMS)
    return cohort.stability(ITEMS)


def test_within_session_retrieval_gain():
    """A successful retrieval before the next sleep earns a share of FSRS's long-term gain on top of the
    same-day rule: on, S grows more than with FSRS's same-day rule alone (share 0, lab_novice), and more
    after a longer gap within the day (lower recall at the retrieval: desirable difficulty)."""
    assert float(brain_preset("lab_novice").same_day_retrieval_share) == 0.0
    off = _stability_after_retrievals(0.0, 6.0)
    on_short, on_long = _stability_after_retrievals(0.5, 0.5), _stability_after_retrievals(0.5, 6.0)
    assert on_long.mean() > 1.2 * off.mean()
    assert on_long.mean() > on_short.mean()


@pytest.mark.parametrize("field, value", [("encoding_sd", -0.1), ("same_day_retrieval_share", 1.5),
                                          ("acquisition_floor", 1.2), ("retrieval_transfer", -0.5)])
def test_new_fields_are_validated(field, value):
    with pytest.raises(ValueError, match=rf"learner\.{field} must"):
        BRAIN.validate_params(brain_preset("lab_novice", **{field: value}))


def test_encoded_share_is_forgotten_down_to_the_floor():
    """With acquisition_floor < 1 the encoded share A is lost along the consolidated forgetting curve down to
    the floor (so relearning after a delay must re-acquire it: savings fall over days); just after study it is
    intact, sleep still conserves recall at bedtime, and the floor 1 of lab_novice keeps A for good."""
    assert float(brain_preset("lab_novice").acquisition_floor) == 1.0
    def cohort(floor):
        return Cohort(acquisition_rate=0.3, acquisition_floor=floor, n_learners=64).practice(at(0, 10), ITEMS)
    kept, lost = cohort(1.0), cohort(0.2)
    assert abs(kept.mean_recall(at(0, 10.05), ITEMS) - lost.mean_recall(at(0, 10.05), ITEMS)) < 0.01
    bedtime = at(0, 23)
    np.testing.assert_allclose(lost.fork().sleep(bedtime).recall(bedtime, ITEMS), lost.recall(bedtime, ITEMS),
                               atol=2e-3)
    later = at(10, 10)
    assert lost.until(later).mean_recall(later, ITEMS) < kept.until(later).mean_recall(later, ITEMS) - 0.02


def _after_readings(transfer: float, readings: int, kind: str = "restudy") -> Cohort:
    cohort = Cohort(retrieval_transfer=transfer, n_learners=64).restudy(at(0, 10), ITEMS)
    for i in range(readings):
        getattr(cohort, kind)(at(0, 10) + (i + 1) / 1440.0, ITEMS)
    return cohort


def test_retrieval_transfer_accumulates_and_favours_tests():
    """Retrieval as online consolidation (Antony et al. 2017): each successful retrieval adds kappa_r L to S and
    each restudy psi kappa_r L, so (1) consolidated stability keeps growing with massed readings, where FSRS's
    same-day rule and the saturating labile trace alone barely move it; (2) after one study, three tests leave
    higher recall a week later than three restudies, by more than without the mechanism; (3) off in lab_novice."""
    assert float(brain_preset("lab_novice").retrieval_transfer) == 0.0
    s = {(k, n): _after_readings(k, n).stability(ITEMS).mean() for k in (0.0, 0.5) for n in (0, 8, 16)}
    on_first, on_second = s[0.5, 8] - s[0.5, 0], s[0.5, 16] - s[0.5, 8]
    assert on_first > 0.3 and on_second > 0.6 * on_first  # grows, and does not saturate
    assert s[0.0, 16] - s[0.0, 0] < 0.25 * (s[0.5, 16] - s[0.5, 0])
    week = at(7, 10)

    def effect(transfer):
        tested = _after_readings(transfer, 3, "practice").until(week).mean_recall(week, ITEMS)
        restudied = _after_readings(transfer, 3, "restudy").until(week).mean_recall(week, ITEMS)
        return tested - restudied
    assert effect(0.5) > effect(0.0) + 0.03


def _reviewed(gap_days: float, slow_gain: float) -> Cohort:
    return Cohort(slow_gain=slow_gain, n_learners=64).practice(at(0, 10), ITEMS).practice(at(gap_days, 10), ITEMS)


def test_slow_trace_is_off_by_default_and_favours_longer_gaps():
    """The slow multiscale trace (Mozer et al. 2009's cascade of leaky integrators): (1) off in lab_novice (the
    trace stays 0); (2) a review writes into it what the faster traces no longer predict, so a review after 20
    days writes more than one after a day, and a massed re-reading almost nothing; (3) hence at a 1-year retention
    interval the longer gap gains more over the shorter one with the trace on than off (the spacing optimum
    lengthens with the retention interval, Cepeda et al. 2008)."""
    assert float(brain_preset("lab_novice").slow_gain) == 0.0
    assert float(np.abs(np.asarray(_reviewed(1.0, 0.0).state.slow)).max()) == 0.0
    slow = {gap: float(np.asarray(_reviewed(gap, 0.5).state.slow)[:, ITEMS].mean()) for gap in (1.0 / 1440, 1.0, 20.0)}
    assert slow[1.0 / 1440] < 0.05 * slow[20.0] and slow[1.0] < slow[20.0]

    def long_run_gain(slow_gain):
        recall = {gap: _reviewed(gap, slow_gain).until(at(gap + 350, 10)).mean_recall(at(gap + 350, 10), ITEMS)
                  for gap in (1.0, 20.0)}
        return recall[20.0] - recall[1.0]
    assert long_run_gain(0.9) > long_run_gain(0.0) + 0.02


def test_sleep_labile_sparing_is_off_by_default_and_slows_labile_loss():
    """Sleep spares the labile trace part of the night's decay (forgetting is less during sleep than waking,
    Jenkins & Dallenbach 1924): (1) off in lab_novice (the labile clock stays the last exposure through a
    night); (2) with it on, recall 12 h after learning is higher when the learner slept, and (3) an interval
    awake is untouched (it acts only through sleep)."""
    assert float(brain_preset("lab_novice").sleep_labile_sparing) == 0.0

    def arm(sparing, sleep):
        # Little downscaling and transfer, so the labile trace carries recall through the night.
        cohort = Cohort(sleep_labile_sparing=sparing, sleep_retention=0.9, sleep_transfer=0.1,
                        n_learners=64).study(at(0, 21), ITEMS)
        if sleep:
            cohort = cohort.sleep(at(0, 22))
        return cohort

    slept = arm(0.0, True)
    np.testing.assert_array_equal(np.asarray(slept.state.labile_since), np.asarray(slept.state.last_review))
    test_time = at(1, 9)
    spared = arm(1.0, True).mean_recall(test_time, ITEMS)
    assert spared > slept.mean_recall(test_time, ITEMS) + 0.02
    assert arm(1.0, False).mean_recall(test_time, ITEMS) == arm(0.0, False).mean_recall(test_time, ITEMS)


def test_material_exposure_share_is_neutral_by_default_and_slows_acquisition():
    """Harder material (Ebbinghaus's nonsense syllables) counts as a share m of an exposure for acquisition:
    (1) m = 1 in every preset, and any m leaves acquisition at once (c = 1, lab_novice) as it is; (2) with gradual
    acquisition an exposure acquires 1 - (1 - c)^m, so material at m = 1/4 needs four exposures for what one
    exposure of ordinary material lays down, and immediate recall after one study is lower."""
    lab = brain_preset("lab_novice")
    assert all(float(brain_preset(name).material_exposure_share) == 1.0 for name in ("lab_novice", "calibrated"))
    assert float(acquisition(lab.encoding_strength, lab.replace(material_exposure_share=0.1))) == pytest.approx(1.0)
    gradual = brain_preset("lab_novice", acquisition_rate=0.5)
    hard = gradual.replace(material_exposure_share=jax.numpy.float32(0.25))
    assert float(acquisition(gradual.encoding_strength, hard)) == pytest.approx(1 - 0.5 ** 0.25, rel=1e-5)
    easy_once = Cohort(acquisition_rate=0.5).restudy(at(0, 10), ITEMS).recall(at(0, 10.05), ITEMS).mean()
    hard_once = (Cohort(acquisition_rate=0.5, material_exposure_share=0.25).restudy(at(0, 10), ITEMS)
                 .recall(at(0, 10.05), ITEMS).mean())
    assert hard_once < easy_once - 0.2


def _next_day_recall(flag: float, readings: int) -> float:
    cohort = Cohort(acquisition_rate=0.5, material_exposure_share=0.2, acquisition_floor=0.3,
                    exposure_forgetting=flag, n_learners=64)
    for i in range(readings):
        cohort.restudy(at(0, 10) + i / 1440.0, ITEMS)
    return cohort.until(at(1, 10)).mean_recall(at(1, 10), ITEMS)


def test_exposure_forgetting_keeps_a_share_of_every_exposure():
    """exposure_forgetting 1 forgets a share of the accumulated exposures (A(t) = 1 - (1 - A)^k), not of the
    encoded share (A k): (1) off (0) in every preset before its fit, and validated as a choice of form; (2) the
    worth retained, -log(1 - A(t)), is the same share k of every exposure, so it doubles from 8 to 16 exposures
    where A k saturates; (3) through the protocol, next-day recall keeps growing from 10 to 30 massed readings of
    hard material with the exposure form, by more than with the share form (Ebbinghaus 1885, section 22: each
    reading saved about the same time 24 h later, from 8 to 53 readings)."""
    from studygym.envs.learners.brain import labile_decay, retained_acquired
    assert float(brain_preset("lab_novice").exposure_forgetting) == 0.0
    with pytest.raises(ValueError, match=r"learner\.exposure_forgetting must be 0 or 1"):
        BRAIN.validate_params(brain_preset("lab_novice", exposure_forgetting=0.5))
    c, floor = 0.2, 0.3
    acquired = jax.numpy.asarray([1 - (1 - c) ** 8, 1 - (1 - c) ** 16])
    since = jax.numpy.asarray([2.0, 2.0])  # days since the labile clock: the labile decay is ~0, k ~ the floor
    worth = {}
    for flag in (0.0, 1.0):
        params = brain_preset("lab_novice", acquisition_floor=floor, exposure_forgetting=flag, labile_tau_days=0.05)
        kept = np.asarray(retained_acquired(acquired, jax.numpy.zeros(2), params, labile_decay(since, params)))
        worth[flag] = -np.log(1 - kept)
    assert worth[1.0][1] == pytest.approx(2 * worth[1.0][0], rel=1e-3)
    assert worth[1.0][0] == pytest.approx(-8 * np.log(1 - c) * floor, rel=1e-2)
    assert worth[0.0][1] < 1.3 * worth[0.0][0]
    gain = {flag: _next_day_recall(flag, 30) - _next_day_recall(flag, 10) for flag in (0.0, 1.0)}
    assert gain[1.0] > 0.05 and gain[1.0] > gain[0.0] + 0.02
