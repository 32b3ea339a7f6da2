"""Stylized facts of dopamine tagging, schemas and the per-learner modulators.

Each test names its source, and asserts the direction and a minimum size of the effect over 256
paired simulated learners (same learners, same random streams, in both arms).
"""

import jax.numpy as jnp
import numpy as np

from cohort import Cohort, at, paired_effect

ITEMS = range(10)


def test_reward_in_the_tag_window_helps_delayed_not_immediate_recall():
    """A reward 30 min after study helps recall a week later but not minutes later; a reward 4 h
    later, after the tag has decayed, does not (Murayama & Kuhbandner 2011, Cognition 119:120;
    Murayama & Kitagami 2014, JEP:G 143:15; behavioural tagging, Wang, Redondo & Morris 2010,
    PNAS 107:19537)."""
    base = Cohort().practice(at(0, 10), ITEMS)
    rewarded = base.fork().reward(at(0, 10.5))
    unrewarded = base.fork()
    late = base.fork().reward(at(0, 14))
    immediate, _ = paired_effect(rewarded.recall(at(0, 10.6)), unrewarded.recall(at(0, 10.6)))
    week = at(7, 10)
    delayed, dz = paired_effect(rewarded.until(week).recall(week), unrewarded.until(week).recall(week))
    late_effect, _ = paired_effect(late.until(week).recall(week), unrewarded.recall(week))
    assert abs(immediate) < 1e-4
    assert delayed > 0.03 and dz > 0.5
    assert late_effect < delayed / 4


def test_novelty_shortly_before_weak_learning_strengthens_it():
    """Behavioural tagging works forwards too: novelty (a dopamine event) shortly before weak
    learning makes it last, one hours earlier does not (Ballarini et al. 2009, PNAS 106:14599;
    Wang, Redondo & Morris 2010). One study at 10:00."""
    base = Cohort()
    week = at(7, 10)

    def recall_after(novelty_time):
        arm = base.fork()
        if novelty_time is not None:
            arm.reward(novelty_time)
        return arm.practice(at(0, 10), ITEMS).until(week).recall(week)

    none = recall_after(None)
    soon, dz = paired_effect(recall_after(at(0, 9.75)), none)
    early, _ = paired_effect(recall_after(at(0, 5)), none)
    assert soon > 0.03 and dz > 0.5
    assert early < soon / 4


def test_a_surprising_success_strengthens_items_studied_just_before():
    """A successful recall that was unlikely is a positive reward-prediction error; its dopamine is
    captured by recently studied (tagged) items (Jang, Nassar, Dillon & Frank 2019, Nat Hum Behav
    3:719; three-factor rules, Fremaux & Gerstner 2016). The same retrievals of weakly known items
    20 min after studying new ones, or 6 h after: the new items are recalled better a week later."""
    weak, new = range(0, 5), range(5, 10)
    base = Cohort().practice(at(0, 10), weak).until(at(3, 10)).practice(at(3, 10), new)
    soon = base.fork().practice(at(3, 10 + 1 / 3), weak)
    later = base.fork().practice(at(3, 16), weak)
    week = at(10, 10)
    effect, dz = paired_effect(soon.until(week).recall(week, new), later.until(week).recall(week, new))
    assert effect > 0.01 and dz > 0.3


def test_schema_linked_items_consolidate_faster():
    """With a known schema, new associations are learnt and consolidated faster (Tse et al. 2007,
    Science 316:76). Items 2k+1 have item 2k as prerequisite; the prerequisites are learnt over
    four days, then the new items once. Control: the same learners and schedule, no links."""
    def run(prerequisite_chain):
        cohort = Cohort(prerequisite_chain=prerequisite_chain)
        for day in range(4):
            cohort.until(at(day, 10)).practice(at(day, 10), range(0, 10, 2))
        cohort.until(at(4, 10)).practice(at(4, 10), range(1, 10, 2)).until(at(5, 8))
        stability = cohort.stability(range(1, 10, 2))
        return stability, cohort.until(at(6, 10)).recall(at(6, 10), range(1, 10, 2))

    schema_s, schema_recall = run(2.0)
    plain_s, plain_recall = run(1.0)
    assert np.exp(np.log(schema_s / plain_s).mean()) > 1.3
    effect, dz = paired_effect(schema_recall, plain_recall)
    assert effect > 0.04 and dz > 1.0


def test_divided_attention_hurts_encoding_not_retrieval():
    """Dividing attention at encoding lowers later recall; at retrieval it barely matters
    (Craik, Govoni, Naveh-Benjamin & Anderson 1996, JEP:G 125:159)."""
    base = Cohort()
    divided = base.with_params(base.params.replace(attention=jnp.float32(0.2)))
    divided.practice(at(0, 10), ITEMS)
    divided = divided.with_params(base.params)
    full = base.fork().practice(at(0, 10), ITEMS)
    effect, dz = paired_effect(full.until(at(1, 10)).recall(at(1, 10)), divided.until(at(1, 10)).recall(at(1, 10)))
    assert effect > 0.04 and dz > 1.0
    at_retrieval = full.with_params(base.params.replace(attention=jnp.float32(0.2)))
    assert np.allclose(at_retrieval.recall(at(1, 11)), full.recall(at(1, 11)))


def test_stress_timing_reverses_its_effect():
    """Acute stress before encoding or before retrieval impairs memory; stress after encoding
    (during consolidation) enhances it (Shields et al. 2017, Psych Bull 143:636)."""
    base = Cohort()
    calm, stressed = base.params, base.params.replace(stress=jnp.float32(1.0))
    test_time = at(2, 10)

    def arm(stress_at_encoding: bool, stress_after: bool) -> Cohort:
        cohort = base.with_params(stressed if stress_at_encoding else calm).practice(at(0, 21), ITEMS)
        cohort = cohort.with_params(stressed if stress_after else calm).until(at(1, 8))
        return cohort.with_params(calm).until(test_time)

    neither = arm(False, False)
    before, _ = paired_effect(arm(True, False).recall(test_time), neither.recall(test_time))
    after, dz = paired_effect(arm(False, True).recall(test_time), neither.recall(test_time))
    at_retrieval, _ = paired_effect(neither.with_params(stressed).recall(test_time), neither.recall(test_time))
    assert before < -0.01
    assert after > 0.008 and dz > 0.5
    assert at_retrieval < -0.02
