"""Stylized facts of forgetting and practice, reproduced by paired brain learners.

Each test names its source, and asserts the direction and a minimum size of the effect over 256
paired simulated learners (same learners, same random streams, in both arms).
"""

import numpy as np

from cohort import Cohort, at, paired_effect

ITEMS = range(10)


def test_forgetting_is_fast_then_slow():
    """Forgetting is fast then slow: a power-law-like curve (Ebbinghaus 1885; Wixted & Ebbesen
    1991, Psych Sci 2:409). One study at 10:00, nights slept, recall from 1 h to 30 d."""
    cohort = Cohort().practice(at(0, 10), ITEMS)
    checkpoints = [at(0, 11), at(0, 16), at(1, 10), at(3, 10), at(7, 10), at(30, 10)]
    recall = [cohort.until(t).mean_recall(t) for t in checkpoints]
    r1h, r6h, r1d, r3d, r7d, r30d = recall
    assert r1h > r6h > r1d > r3d > r7d > r30d > 0.1
    early_rate = (r1h - r6h) / (5 / 24)  # recall lost per day over the first hours
    late_rate = (r7d - r30d) / 23  # recall lost per day between a week and a month
    assert early_rate > 20 * late_rate
    # Proportional loss slows too (the hallmark of a power law rather than an exponential).
    assert np.log(r1h / r6h) / (5 / 24) > 10 * np.log(r7d / r30d) / 23


def test_spacing_beats_massing_at_equal_study_time():
    """Spacing effect: four exposures spread over four days beat four in one session, at a
    14-day retention interval from the last exposure (Cepeda et al. 2006, Psych Bull 132:354;
    Cepeda et al. 2008, Psych Sci 19:1095)."""
    base = Cohort()
    massed = base.fork()
    for k in range(4):
        massed.practice(at(0, 10 + k / 6), ITEMS)
    spaced = base.fork()
    for day in range(4):
        spaced.until(at(day, 10)).practice(at(day, 10), ITEMS)
    massed_recall = massed.until(at(14, 10)).recall(at(14, 10))
    spaced_recall = spaced.until(at(17, 10)).recall(at(17, 10))
    effect, dz = paired_effect(spaced_recall, massed_recall)
    assert effect > 0.2 and dz > 1.0


def test_success_at_lower_recall_gives_a_larger_stability_gain():
    """Desirable difficulty: a successful retrieval at lower recall strengthens memory more
    (Bjork & Bjork 1992, New Theory of Disuse; Pyc & Rawson 2009, JML 60:437; FSRS-6 w10)."""
    base = Cohort().practice(at(0, 10), ITEMS)
    base.until(at(1, 10)).practice(at(1, 10), ITEMS)
    gains, recalls = [], []
    for delay_days in (2, 12):
        arm = base.fork().until(at(1 + delay_days, 10))
        recalls.append(arm.mean_recall(at(1 + delay_days, 10)))
        before = arm.stability()
        arm.practice(at(1 + delay_days, 10), ITEMS)
        success = np.stack(arm.grades[-10:], axis=1) > 1
        gains.append(np.log(arm.stability()[success] / before[success]).mean())
    short_recall, long_recall = recalls
    short_gain, long_gain = gains
    assert long_recall < short_recall - 0.15
    assert long_gain > short_gain + 0.5  # at least a 1.65x larger stability multiplier


def test_testing_beats_restudy_at_a_delay_not_immediately():
    """Testing effect: after one study, three retrievals beat three restudies a week later, while
    restudy is at least as good minutes later (Roediger & Karpicke 2006, Psych Sci 17:249)."""
    base = Cohort().restudy(at(0, 10), ITEMS)
    tested, restudied = base.fork(), base.fork()
    for k in range(1, 4):
        tested.practice(at(0, 10 + k / 12), ITEMS)
        restudied.restudy(at(0, 10 + k / 12), ITEMS)
    immediate, _ = paired_effect(tested.recall(at(0, 10.4)), restudied.recall(at(0, 10.4)))
    delayed, dz = paired_effect(tested.until(at(7, 10)).recall(at(7, 10)),
                                restudied.until(at(7, 10)).recall(at(7, 10)))
    assert immediate <= 0.005
    assert delayed > 0.04 and dz > 0.5
