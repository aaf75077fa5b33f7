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
    and transitions use) from its own seed, then samples until one particle is accepted."""

    def __init__(self, client, seed: int):
        seeds = np.random.default_rng(seed)

        def seeded_map(function, items):
            task_seeds = seeds.integers(0, 2**32 - 1, size=len(items)).tolist()
            return client.gather(client.map(function, task_seeds, pure=False))

        super().__init__(map_=seeded_map)

    def map_function(self, simulate_one, task_seed):
        np.random.seed(task_seed)  # noqa: NPY002 (pyabc draws from the legacy global state)
        random.seed(task_seed)
        simulate_one = self.unpickle(simulate_one)
        sample, evaluations = self._create_empty_sample(), 0
        while True:
            particle = simulate_one()
            evaluations += 1
            sample.append(particle)
            if particle.accepted:
                return sample, evaluations
