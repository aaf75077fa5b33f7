"""pyabc's ``MappingSampler`` over a Dask client, with every draw seeded.

pyabc's samplers draw priors and perturbations from each worker's numpy generator, which
they seed from the operating system, and its Dask sampler keeps the first particles to
finish. Two runs of the same calibration therefore gave different ensembles, and two
hindcasts different out-of-sample figures. Here each task gets a seed drawn from a
generator seeded by the calibration's seed, and results come back in task order, so the
ensemble depends on the seed only, not on timing or on the number of workers.
"""

from __future__ import annotations

import random

import numpy as np
from pyabc.sampler import MappingSampler


class SeededMappingSampler(MappingSampler):
    """Each mapped task seeds numpy's and Python's global generators (which pyabc's priors
    and transitions use) from its own seed; the rest is pyabc's ``MappingSampler``."""

    def __init__(self, client, seed: int):
        seeds = np.random.default_rng(seed)

        def seeded_map(function, items):
            task_seeds = seeds.integers(0, 2**32 - 1, size=len(items)).tolist()
            return client.gather(client.map(function, task_seeds, pure=False))

        super().__init__(map_=seeded_map)

    def map_function(self, simulate_one, task_seed):
        """pyabc's task (sample until one particle is accepted), whose first draw comes
        after the seeding: pyabc reseeds from the operating system at the task's start."""
        seeded = _SeededFirst(self.unpickle(simulate_one), task_seed)
        return super().map_function(self.pickle(seeded), None)


class _SeededFirst:
    """``simulate_one`` that seeds the global generators before its first call."""

    def __init__(self, simulate_one, seed: int):
        self.simulate_one, self.seed = simulate_one, seed

    def __call__(self):
        if self.seed is not None:
            np.random.seed(self.seed)  # noqa: NPY002 (pyabc draws from the legacy global state)
            random.seed(self.seed)
            self.seed = None
        return self.simulate_one()
