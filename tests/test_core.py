"""envs/core.py helpers: cond_any and when_any keep branch semantics under vmap (single and nested)."""

import jax
import jax.numpy as jnp
import numpy as np

from studygym.envs.core import UNROLLED_THREEFRY, cond_any, unrolled_keys, when_any


def expensive(x, y):
    return {"a": jnp.sin(x) * y, "b": x + 1.0}


def cheap(x, y):
    return {"a": jnp.zeros_like(x), "b": x}


def reference(pred, x, y):
    return jax.tree.map(lambda t, f: jnp.where(pred, t, f), expensive(x, y), cheap(x, y))


def test_unbatched_matches_lax_cond():
    for pred in (True, False):
        out = jax.jit(lambda p, x, y: cond_any(p, expensive, cheap, x, y))(pred, 2.0, 3.0)
        np.testing.assert_allclose(out["a"], expensive(2.0, 3.0)["a"] if pred else 0.0)


def test_vmapped_per_element_semantics_with_mixed_batching():
    pred = jnp.array([True, False, True, False])
    x = jnp.arange(4.0)
    out = jax.jit(jax.vmap(lambda p, x: cond_any(p, expensive, cheap, x, 3.0)))(pred, x)
    want = reference(pred, x, 3.0)
    for key in ("a", "b"):
        np.testing.assert_allclose(out[key], want[key], rtol=1e-6)
    none = jax.vmap(lambda p, x: cond_any(p, expensive, cheap, x, 3.0))(jnp.zeros(4, bool), x)
    np.testing.assert_allclose(none["a"], 0.0)


def test_nested_vmap():
    pred = jnp.array([[True, False], [False, False], [False, True]])
    x = jnp.arange(6.0).reshape(3, 2)
    y = jnp.array([1.0, 2.0, 3.0])
    f = jax.vmap(jax.vmap(lambda p, x, y: cond_any(p, expensive, cheap, x, y), in_axes=(0, 0, None)))
    out = f(pred, x, y)
    want = reference(pred, x, y[:, None])
    for key in ("a", "b"):
        np.testing.assert_allclose(out[key], want[key], rtol=1e-6)


def night(state, y):
    """A branch that changes part of its state (as a night changes a learner's)."""
    return {"a": jnp.sin(state["a"]) * y, "b": state["b"], "n": state["n"] + 1}


def keep(state, y):
    return state


def test_when_any_gives_cond_any_values_bit_for_bit():
    """when_any(pred, f, state) is cond_any(pred, f, identity, state): unbatched, vmapped with a batched or an
    unbatched predicate, and under two vmaps (the outer over a parameter)."""
    state = {"a": jnp.linspace(0.1, 2.0, 6).reshape(3, 2), "b": jnp.arange(6.0).reshape(3, 2),
             "n": jnp.zeros((3, 2), jnp.int32)}
    y = jnp.array([1.5, -2.0, 3.0])
    pred = jnp.array([[True, False], [False, False], [False, True]])
    one = jax.tree.map(lambda x: x[0, 0], state)
    rows = jax.tree.map(lambda x: x[0], state)
    # (how the call is wrapped, its argument tuples)
    cases = [
        (lambda w: lambda p, s: w(p, night, s, 2.0), [(True, one), (False, one)]),
        (lambda w: jax.vmap(lambda p, s: w(p, night, s, 2.0)), [(pred[0], rows), (jnp.zeros(2, bool), rows)]),
        (lambda w: jax.vmap(lambda s: w(True, night, s, 2.0)), [(rows,)]),
        (lambda w: jax.vmap(jax.vmap(lambda p, s, y: w(p, night, s, y), in_axes=(0, 0, None))),
         [(pred, state, y), (jnp.zeros_like(pred), state, y)]),
    ]
    with_cond = lambda p, f, s, *a: cond_any(p, f, keep, s, *a)  # noqa: E731
    for wrap, calls in cases:
        for args in calls:
            got, want = jax.jit(wrap(when_any))(*args), jax.jit(wrap(with_cond))(*args)
            for key in ("a", "b", "n"):
                assert np.asarray(got[key]).tobytes() == np.asarray(want[key]).tobytes(), key
    # Per element: the branch's values where pred holds, the state elsewhere.
    got = jax.jit(cases[3][0](when_any))(pred, state, y)
    np.testing.assert_array_equal(got["n"], pred.astype(np.int32))
    np.testing.assert_array_equal(got["a"], np.where(pred, np.sin(state["a"]) * y[:, None], state["a"]))


def test_when_any_runs_the_branch_only_when_some_element_needs_it():
    calls = []

    def counted(state, y):
        jax.debug.callback(lambda: calls.append(1))
        return night(state, y)

    state = {"a": jnp.ones(4), "b": jnp.zeros(4), "n": jnp.zeros(4, jnp.int32)}
    step = jax.jit(jax.vmap(lambda p, s: when_any(p, counted, s, 2.0)))
    step(jnp.zeros(4, bool), state)["a"].block_until_ready()
    jax.effects_barrier()
    assert not calls
    step(jnp.array([False, True, False, False]), state)["a"].block_until_ready()
    jax.effects_barrier()
    assert calls


def test_unrolled_threefry_draws_the_same_numbers_as_jax_threefry():
    """UNROLLED_THREEFRY only unrolls the hash: the same key data gives bit-identical keys and draws."""
    draws = [lambda k: jax.random.key_data(jax.random.split(k)), lambda k: jax.random.key_data(jax.random.split(k, (3, 5))),
             lambda k: jax.random.key_data(jax.random.fold_in(k, 123456789)), lambda k: jax.random.uniform(k),
             lambda k: jax.random.normal(k, (30,)), lambda k: jax.random.randint(k, (11,), 0, 100),
             lambda k: jax.random.bits(k, (5,), jnp.uint8), lambda k: jax.random.permutation(k, 20),
             lambda k: jax.vmap(lambda key: jax.random.uniform(jax.random.fold_in(key, 0)))(jax.random.split(k, 64))]
    for seed in (0, 7, 2**31 - 1, 2**40 + 3):
        key = jax.random.key(seed)
        unrolled = jax.random.wrap_key_data(jax.random.key_data(key), impl=UNROLLED_THREEFRY)
        for draw in draws:
            expected, got = np.asarray(jax.jit(draw)(key)), np.asarray(jax.jit(draw)(unrolled))
            assert expected.dtype == got.dtype and expected.tobytes() == got.tobytes()


def test_unrolled_keys_moves_only_jax_threefry_keys_and_keeps_their_numbers():
    """Typed threefry keys and raw uint32 key data go onto UNROLLED_THREEFRY with the same draws;
    keys of another PRNG are left alone."""
    key = jax.random.key(11)
    for given in (key, jax.random.key_data(key)):
        moved = unrolled_keys(given)
        assert str(jax.random.key_impl(moved)) == str(jax.random.key_impl(jax.random.wrap_key_data(
            jax.random.key_data(key), impl=UNROLLED_THREEFRY)))
        assert np.asarray(jax.random.uniform(moved, (7,))).tobytes() == np.asarray(jax.random.uniform(key, (7,))).tobytes()
    rbg = jax.random.key(11, impl="rbg")
    assert unrolled_keys(rbg) is rbg
    batch = jax.random.split(key, 4)
    assert np.array_equal(jax.random.key_data(unrolled_keys(batch)), jax.random.key_data(batch))


def test_env_draws_the_same_numbers_from_every_form_of_a_threefry_key():
    """Environment.step moves jax's threefry keys onto the unrolled hash: a typed key, its raw data and
    the same data already on UNROLLED_THREEFRY give one result."""
    import studygym

    env, params = studygym.make("Review-v0", n_items=12)
    key = jax.random.key(4)
    _, state = env.reset(key, params)
    forms = (key, jax.random.key_data(key), jax.random.wrap_key_data(jax.random.key_data(key), impl=UNROLLED_THREEFRY))
    outs = [jax.jit(lambda k: env.step(k, state, 3, params)[:3])(k) for k in forms]
    for out in outs[1:]:
        for a, b in zip(jax.tree.leaves(outs[0]), jax.tree.leaves(out)):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_unrolled_hash_runs_once_for_several_consumers():
    """Re-measures an assumption about XLA's fusion, not studygym's maths: each unrolled hash's output is
    stored once (``_stored``) rather than recomputed inside every kernel that reads it. Here one draw
    feeds two loops over a (64, 50) array; each hash has 20 rotation xors, so the compiled program
    holds the draw's hash once."""
    x = jnp.ones((64, 50), jnp.float32)

    def two_consumers(key):
        u = jax.random.uniform(key, (64,))
        return (u[:, None] * x).sum(1), (u[:, None] + x).max(1)

    key = jax.random.wrap_key_data(jax.random.key_data(jax.random.key(0)), impl=UNROLLED_THREEFRY)
    text = jax.jit(two_consumers).lower(key).compile().as_text()
    assert text.count(" xor(") // 20 == 1
