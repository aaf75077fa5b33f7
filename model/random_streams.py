"""Counter-based random numbers keyed by agent, month and purpose.

Why not draw from ``model.rng`` in array order? Because two scenarios run with the same
seed must give each migrant the *same* random numbers (common random numbers), so that the
difference between a policy scenario and the baseline is the policy's effect and not noise.
Array order changes as soon as one scenario has one more migrant than the other; a
migrant's own key does not.

Every stream here is derived from one 32-bit ``stream_key`` that the model draws from its
seeded Mesa generator (``model.rng``) at start-up, so all randomness still flows from the
model's seed. The mixing function is Chris Wellons' "lowbias32" integer hash, a bijection on
32-bit integers with very low bias; a uniform is the hash's top bits. Comparing the raw
hash with an integer threshold (``below``) skips the float conversion in the hot loop.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint32(0x7FEB352D)
_M2 = np.uint32(0x846CA68B)
_GOLDEN = 0x9E3779B9
TWO32 = float(2**32)


def hash32(x: np.ndarray) -> np.ndarray:
    """lowbias32 on a uint32 array, in place where possible; returns uint32."""
    x = np.asarray(x, dtype=np.uint32).copy()
    return hash_inplace(x)


def hash_inplace(x: np.ndarray) -> np.ndarray:
    tmp = np.empty_like(x)
    np.right_shift(x, 16, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _M1, out=x)
    np.right_shift(x, 15, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _M2, out=x)
    np.right_shift(x, 16, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    return x


def _hash_int(x: int) -> int:
    """lowbias32 on one Python int (same function as ``hash_inplace``)."""
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def hash_scalar(*parts: int) -> int:
    """Hash a tuple of integers to one uint32 (for salts and cohort keys)."""
    h = 0
    for part in parts:
        h = _hash_int(h ^ ((int(part) * _GOLDEN) & 0xFFFFFFFF))
    return h


class RandomStreams:
    """All of a model run's random numbers, derived from one key drawn from ``model.rng``."""

    def __init__(self, stream_key: int):
        self.stream_key = int(stream_key) & 0xFFFFFFFF

    def salt(self, month: int, purpose: int, extra: int = 0) -> np.uint32:
        return np.uint32(hash_scalar(self.stream_key, month, purpose, extra))

    def raw(self, agent_keys: np.ndarray, month: int, purpose: int, extra: int = 0) -> np.ndarray:
        """One uint32 per agent for (month, purpose); the same agent gets the same value in
        every scenario run with the same seed."""
        x = np.bitwise_xor(agent_keys, self.salt(month, purpose, extra))
        return hash_inplace(x)

    def uniform(
        self, agent_keys: np.ndarray, month: int, purpose: int, extra: int = 0
    ) -> np.ndarray:
        """Uniforms in the open interval (0, 1), float64, one per agent."""
        return (self.raw(agent_keys, month, purpose, extra).astype(np.float64) + 0.5) / TWO32

    def salts(self, month: int, purpose: int, extras: np.ndarray) -> np.ndarray:
        """``salt(month, purpose, e)`` for every ``e`` in ``extras`` at once."""
        head = hash_scalar(self.stream_key, month, purpose)
        mixed = (np.asarray(extras, dtype=np.uint64) * np.uint64(_GOLDEN)) & np.uint64(0xFFFFFFFF)
        return hash_inplace(np.bitwise_xor(mixed.astype(np.uint32), np.uint32(head)))

    def gumbel(self, agent_keys: np.ndarray, salts: np.ndarray | np.uint32) -> np.ndarray:
        """Standard Gumbel noise for random-utility choice, elementwise over ``agent_keys``
        and ``salts`` broadcast together: pass flat (agent, alternative) pairs, or
        ``keys[:, None]`` against a row of salts for a whole table.

        Each alternative has its own salt (see ``salts``), so the noise an agent gets on one
        alternative does not depend on which other alternatives are open: the choice stays
        coupled across scenarios."""
        raw = hash_inplace(np.bitwise_xor(agent_keys, salts))
        # (raw + 0.5) / 2**32 in place: a fresh temporary per step costs as much as the
        # step (multiplying by 2**-32 is exact, as dividing is)
        u = raw.astype(np.float64)
        u += 0.5
        u *= 1.0 / TWO32
        return gumbel_inplace(u)

    def event_uniform(self, month: int, purpose: int, extra: int = 0) -> float:
        """One uniform in (0, 1) for an aggregate event (e.g. a cohort size)."""
        return (hash_scalar(self.stream_key, month, purpose, extra) + 0.5) / TWO32

    def new_agent_keys(self, month: int, cohort: int, count: int) -> np.ndarray:
        """Keys for ``count`` migrants of one (month, cohort): the k-th migrant of a cohort
        has the same key whichever scenario creates it."""
        base = np.uint32(hash_scalar(self.stream_key, month, cohort, 0xC0FFEE))
        ranks = np.arange(count, dtype=np.uint32) * np.uint32(_GOLDEN)
        return hash_inplace(np.bitwise_xor(ranks, base))


def gumbel_inplace(u: np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1) -> standard Gumbel, -ln(-ln u), in the array given (any float
    precision): each step in place, as a fresh temporary per step costs as much again."""
    np.log(u, out=u)
    np.negative(u, out=u)
    np.log(u, out=u)
    np.negative(u, out=u)
    return u


def threshold(p: np.ndarray) -> np.ndarray:
    """Integer thresholds for ``raw < threshold`` to mean an event of probability ``p``."""
    return np.minimum(np.floor(np.clip(p, 0.0, 1.0) * TWO32), TWO32 - 1).astype(np.uint32)
