"""Stylized facts of sleep: consolidation, timing, cramming, interference, capacity, ageing.

Each test names its source, and asserts the direction and a minimum size of the effect over 256
paired simulated learners (same learners, same random streams, in both arms). Days start at
midnight; learners wake at 07:00 and sleep at 23:00 unless a schedule says otherwise.
"""

import numpy as np
import pytest

from cohort import Cohort, at, paired_effect

ITEMS = range(10)


def sleep_vs_wake(cohort: Cohort, items=ITEMS) -> tuple[np.ndarray, np.ndarray]:
    """Recall 12 h after one study: learnt at 21:00 and tested after a night, or learnt at 09:00
    (after a night's sleep) and tested at 21:00 (the classic sleep/wake design)."""
    slept = cohort.fork().practice(at(0, 21), items).until(at(1, 9)).recall(at(1, 9), items)
    awake = cohort.fork().until(at(1, 9)).practice(at(1, 9), items).recall(at(1, 21), items)
    return slept, awake


def test_sleep_after_learning_beats_an_equal_wake_interval():
    """Sleep vs an equal interval awake, 12 h after learning word pairs (Berres & Erdfelder 2021,
    Psych Bull 147:1309: g = 0.28-0.44; Ellenbogen et al. 2006, Curr Biol 16:1290)."""
    slept, awake = sleep_vs_wake(Cohort())
    effect, dz = paired_effect(slept, awake)
    assert 0.05 < effect < 0.3 and dz > 1.0


def test_sleep_between_sessions_beats_an_equal_wake_gap():
    """Learning and relearning 12 h apart: a night between them gives better recall at relearning
    and a week later than a day awake between them (Mazza et al. 2016, Psych Sci 27:1321;
    Bell et al. 2014, Memory 22:276)."""
    base = Cohort()
    slept = base.fork().practice(at(0, 21), ITEMS).until(at(1, 9))
    at_relearn_slept = slept.recall(at(1, 9))
    week_slept = slept.practice(at(1, 9), ITEMS).until(at(8, 9)).recall(at(8, 9))
    awake = base.fork().until(at(1, 9)).practice(at(1, 9), ITEMS)
    at_relearn_awake = awake.recall(at(1, 21))
    week_awake = awake.practice(at(1, 21), ITEMS).until(at(8, 21)).recall(at(8, 21))
    relearn_effect, _ = paired_effect(at_relearn_slept, at_relearn_awake)
    week_effect, dz = paired_effect(week_slept, week_awake)
    assert relearn_effect > 0.08
    assert week_effect > 0.05 and dz > 1.0


def test_sleep_soon_after_learning_beats_sleep_after_a_day_awake():
    """At a 24-h test, learning shortly before sleep beats learning in the morning, with the same
    one night in the interval (Payne et al. 2012, PLoS One 7:e33079)."""
    base = Cohort()
    evening = base.fork().practice(at(0, 21), ITEMS).until(at(1, 21)).recall(at(1, 21))
    morning = base.fork().until(at(1, 9)).practice(at(1, 9), ITEMS).until(at(2, 9)).recall(at(2, 9))
    effect, dz = paired_effect(evening, morning)
    assert effect > 0.03 and dz > 0.5


def test_all_nighter_cram_matches_spaced_on_the_exam_but_not_a_week_later():
    """Cramming: an all-nighter before an exam scores near spaced study with sleep on the exam but
    far worse a week later (Cousins et al. 2019, Sleep 42:zsy207; Newbury et al. 2021, Psych Bull:
    sleep deprivation after learning g = 0.28). Six passes over the items in both schedules."""
    base = Cohort()
    spaced = base.fork()
    for day in range(3):  # two evening passes on each of three days, a night after each
        spaced.until(at(day, 19)).practice(at(day, 19), ITEMS).practice(at(day, 19.5), ITEMS)
    cram = base.fork().until(at(2, 21))
    for k in range(6):  # 22:00 .. 08:00, no sleep
        cram.practice(at(2, 22 + 2 * k), ITEMS)
    exam = at(3, 10)
    spaced_exam = spaced.until(exam).recall(exam)
    cram_exam = cram.until(exam, skip_nights=(2,)).recall(exam)
    week = at(10, 10)
    spaced_week, cram_week = spaced.until(week).recall(week), cram.until(week).recall(week)
    exam_gap, _ = paired_effect(spaced_exam, cram_exam)
    week_gap, dz = paired_effect(spaced_week, cram_week)
    assert cram_exam.mean() > 0.85 and abs(exam_gap) < 0.08
    assert week_gap > 0.2 and dz > 1.0 and week_gap > 4 * exam_gap


def test_interference_hurts_after_wake_not_after_sleep():
    """Learning A-C pairs that share cues with earlier A-B pairs hurts A-B recall after a day awake,
    hardly after a night of sleep (Ellenbogen et al. 2006, Curr Biol 16:1290). Items 2k (A-B) and
    2k+1 (A-C) share a cue: clusters of 2 with similarity 1."""
    base = Cohort(cluster_size=2.0, similarity=1.0)
    first, second = range(0, 20, 2), range(1, 20, 2)

    def ab_recall(sleep: bool, interfere: bool) -> np.ndarray:
        arm = base.fork()
        if sleep:
            arm.practice(at(0, 21), first).until(at(1, 8))
            if interfere:
                arm.practice(at(1, 8), second)
            return arm.recall(at(1, 9), first)
        arm.until(at(1, 9)).practice(at(1, 9), first)
        if interfere:
            arm.practice(at(1, 20), second)
        return arm.recall(at(1, 21), first)

    wake_cost, wake_dz = paired_effect(ab_recall(False, False), ab_recall(False, True))
    sleep_cost, _ = paired_effect(ab_recall(True, False), ab_recall(True, True))
    assert wake_cost > 0.03 and wake_dz > 1.0
    assert sleep_cost < wake_cost / 4


def test_sleep_benefit_shrinks_when_the_load_exceeds_capacity():
    """Sleep's benefit for 160 word pairs vanished for 320 (Feld, Weis & Born 2016, Front Psychol
    7:1368). Scaled down tenfold: capacity 12 labile units, 16 vs 32 items."""
    benefit, transfer = {}, {}
    for n_items in (16, 32):
        base = Cohort(sleep_capacity=12.0)
        slept, awake = sleep_vs_wake(base, range(n_items))
        benefit[n_items] = paired_effect(slept, awake)[0]
        before = base.fork().practice(at(0, 21), range(n_items))
        after = before.fork().sleep(at(0, 23))
        transfer[n_items] = float(np.mean(after.stability() - before.stability()))
    assert benefit[16] > 0.05
    assert benefit[32] < 0.9 * benefit[16]
    assert transfer[32] < 0.6 * transfer[16]  # per-item consolidation roughly halves


def test_encoding_after_an_all_nighter_is_weaker():
    """Sleep deprivation before learning impairs encoding (Yoo et al. 2007, Nat Neurosci 10:385;
    Newbury et al. 2021, Psych Bull: g = 0.62). Study at 10:00 after a night slept or skipped,
    recall 3 days later with nights slept."""
    base = Cohort()
    rested = base.fork().until(at(1, 10)).practice(at(1, 10), ITEMS)
    deprived = base.fork().until(at(1, 10), skip_nights=(0,)).practice(at(1, 10), ITEMS)
    effect, dz = paired_effect(rested.until(at(4, 10)).recall(at(4, 10)),
                               deprived.until(at(4, 10)).recall(at(4, 10)))
    assert effect > 0.05 and dz > 0.5


@pytest.mark.parametrize("preset, benefit_ratio, gain_ratio, source", [
    ("older_adult", 0.75, 0.6, "Spencer, Gouw & Ivry 2007, Learn Mem 14:480"),
    ("sleep_deprived", 0.9, 0.8, "Crowley et al. 2024, Neurosci Biobehav Rev 167:105929"),
])
def test_older_and_sleep_restricted_learners_gain_less_from_sleep(preset, benefit_ratio, gain_ratio, source):
    """Older adults (Spencer et al. 2007: no sleep-dependent gain) and sleep-restricted learners
    (Crowley et al. 2024: restriction to 3-6.5 h, g = 0.29) consolidate less in a night: the
    sleep-vs-wake benefit and the overnight stability gain are smaller than a young, rested
    learner's (same learners' random streams; the presets differ only in the named traits)."""
    young = Cohort("lab_novice")
    other = Cohort(preset)
    young_benefit = paired_effect(*sleep_vs_wake(young))[0]
    other_benefit = paired_effect(*sleep_vs_wake(other))[0]
    assert 0.0 < other_benefit < benefit_ratio * young_benefit, source

    def overnight_gain(cohort):
        before = cohort.fork().practice(at(0, 21), ITEMS)
        return np.log(before.fork().sleep(at(0, 23)).stability() / before.stability()).mean()

    assert overnight_gain(other) < gain_ratio * overnight_gain(young), source
