"""envs/core.py helpers: cond_any keeps branch semantics under vmap (single and nested)."""

import jax
import jax.numpy as jnp
import numpy as np

from studygym.envs.core import UNROLLED_THREEFRY, cond_any


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
