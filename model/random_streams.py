"""Counter-based random numbers keyed by agent, month and purpose.

Why not draw from ``model.rng`` in array order? Because two scenarios run with the same
seed must give each migrant the *same* random numbers (common random numbers), so that the
difference between a policy scenario and the baseline is the policy's effect and not noise.
Array order changes as soon as one scenario has one more migrant than the other; a
migrant's own key does not.

Every stream here is derived from one 32-bit ``stream_key`` that the model draws from its
seeded Mesa generator (``model.rng``) at start-up, so all randomness still flows from the
model's seed.

A migrant's key is 64 bits wide. With 32-bit keys, two of the 30 million migrants of a
scale-1 run would share a key about 100,000 times (measured: 202,757 migrants), and two
migrants with one key draw the same numbers for every decision of the run. With 64 bits the
expected number of shared keys in such a run is 2.4e-5. A draw mixes the key with a 64-bit
salt (month, purpose, alternative) by the splitmix64 finaliser, a bijection on 64-bit
integers, and keeps the top 32 bits: distinct keys never give identical streams, only
coincident single draws, as independent numbers do. Salts and cohort keys of aggregate
events use Chris Wellons' "lowbias32" hash of the parts. Comparing the raw 32-bit draw with
an integer threshold (``threshold``) skips the float conversion in the hot loop.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_GOLDEN = 0x9E3779B9
TWO32 = float(2**32)
#: a migrant's random-stream key (see the module's docstring for why 64 bits)
KEY_DTYPE = np.uint64
_S1 = np.uint64(0xBF58476D1CE4E5B9)
_S2 = np.uint64(0x94D049BB133111EB)
GOLDEN64 = np.uint64(0x9E3779B97F4A7C15)
_SHIFTS = tuple(np.uint64(k) for k in (30, 27, 31, 32))


def mix64_inplace(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on a uint64 array, in place: a bijection with full
    avalanche (Steele, Lea and Flood 2014; the constants are Stafford's "Mix13")."""
    tmp = np.empty_like(x)
    np.right_shift(x, _SHIFTS[0], out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _S1, out=x)
    np.right_shift(x, _SHIFTS[1], out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _S2, out=x)
    np.right_shift(x, _SHIFTS[2], out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    return x


def draw32(keys: np.ndarray, salts) -> np.ndarray:
    """One uint32 per (key, salt) pair, broadcast: the top half of mix64(key ^ salt)."""
    x = mix64_inplace(np.bitwise_xor(keys, salts))
    return np.right_shift(x, _SHIFTS[3], out=x).astype(np.uint32)


@lru_cache(maxsize=1 << 12)
def _salt64(*parts: int) -> int:
    """Two independent 32-bit hashes of ``parts`` as one 64-bit salt. Kept for the salts
    used lately: a month asks for the same (month, purpose) salt once per round of
    movement and per block of a choice, and each costs ten pure-Python hashes."""
    return (hash_scalar(*parts, 1) << 32) | hash_scalar(*parts, 2)


def _hash_int(x: int) -> int:
    """Chris Wellons' lowbias32 on one Python int."""
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

    def salt(self, month: int, purpose: int, extra: int = 0) -> np.uint64:
        return np.uint64(_salt64(self.stream_key, month, purpose, extra))

    def raw(self, agent_keys: np.ndarray, month: int, purpose: int, extra: int = 0) -> np.ndarray:
        """One uint32 per agent for (month, purpose); the same agent gets the same value in
        every scenario run with the same seed."""
        return draw32(agent_keys, self.salt(month, purpose, extra))

    def uniform(
        self, agent_keys: np.ndarray, month: int, purpose: int, extra: int = 0
    ) -> np.ndarray:
        """Uniforms in the open interval (0, 1), float64, one per agent."""
        return (self.raw(agent_keys, month, purpose, extra).astype(np.float64) + 0.5) / TWO32

    def salts(self, month: int, purpose: int, extras: np.ndarray) -> np.ndarray:
        """A 64-bit salt for (month, purpose, e) for every ``e`` in ``extras`` at once."""
        head = np.uint64(_salt64(self.stream_key, month, purpose))
        mixed = np.asarray(extras, dtype=np.uint64) * GOLDEN64
        return mix64_inplace(np.bitwise_xor(mixed, head))

    def gumbel(self, agent_keys: np.ndarray, salts: np.ndarray | np.uint32) -> np.ndarray:
        """Standard Gumbel noise for random-utility choice, elementwise over ``agent_keys``
        and ``salts`` broadcast together: pass flat (agent, alternative) pairs, or
        ``keys[:, None]`` against a row of salts for a whole table.

        Each alternative has its own salt (see ``salts``), so the noise an agent gets on one
        alternative does not depend on which other alternatives are open: the choice stays
        coupled across scenarios."""
        raw = draw32(agent_keys, salts)
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
        """64-bit keys for ``count`` migrants of one (month, cohort): the k-th migrant of a
        cohort has the same key whichever scenario creates it, and the keys of a cohort are
        distinct (a bijection of the ranks)."""
        return self.cohort_keys(month, np.array([cohort]), np.array([count]))

    def cohort_keys(self, month: int, cohorts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """``new_agent_keys`` of several cohorts of one month at once, one after another
        (``counts[i]`` keys of cohort ``cohorts[i]``): the same keys, in one pass."""
        counts = np.asarray(counts, dtype=np.int64)
        bases = np.array(
            [_salt64(self.stream_key, month, int(c), 0xC0FFEE) for c in cohorts], dtype=np.uint64
        )
        firsts = np.cumsum(counts) - counts  # each cohort's first position
        ranks = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(firsts, counts)
        ranks = ranks.astype(np.uint64) * GOLDEN64
        return mix64_inplace(np.bitwise_xor(ranks, np.repeat(bases, counts)))


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
