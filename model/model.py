"""The migration model: a ``mesa.Model`` whose month runs five steps (docs/architecture.md).

Mesa gives the frame (seeded generator ``self.rng``, step counting, the country agents in
``self.agents``); migrants are struct-of-arrays in ``self.pop``. All randomness comes from
``self.rng``: the model draws one stream key from it and every per-migrant draw is a hash of
that key (``random_streams.py``), which gives common random numbers across scenarios.
"""

from __future__ import annotations

import numpy as np

from .agents import Country
from .calendar import format_month
from .geography import (
    CODES,
    DARIEN,
    EDGE_INDEX,
    EDGE_SEGMENT,
    HOST_MASK,
    HOSTS,
    ORIGIN_NODE,
    ORIGINS,
    SEGMENTS,
    build_paths,
)
from .mechanisms import PURPOSE_SLOTS
from .mechanisms.choice import (
    MonthlyUtilities,
    alternative_table,
    choose_emigrants,
    start_journey,
)
from .mechanisms.emigration import emigrate
from .mechanisms.movement import PathLookup, move
from .mechanisms.news import path_values, react_to_news
from .mechanisms.pathways import divert
from .mechanisms.settlement import N_F, N_S, group_counts, remember_onward_pull, settle
from .mesa_core import mesa
from .parameters import Parameters, default_parameters, mortality_name
from .policy import PolicySchedule
from .population import SETTLED, Population
from .random_streams import RandomStreams
from .recorder import Recorder
from .scenario import Scenario

N_C, N_O = len(CODES), len(ORIGINS)


class MigrationModel(mesa.Model):
    """One run of one scenario, month by month."""

    def __init__(self, scenario: Scenario, parameters: Parameters | None = None):
        super().__init__(rng=scenario.seed)
        self.scenario = scenario
        self.params = parameters or default_parameters(scenario.parameters)
        self.scale = scenario.scale
        # the scenario compiled into per-month arrays (not a Mesa scheduler: the month runs
        # its five steps in a fixed order, see step())
        self.policy = PolicySchedule.compile(scenario, self.params)
        self.n_months = scenario.n_months
        self._in_step = False  # see ``t``
        self.first_month = scenario.first_month
        self.streams = RandomStreams(int(self.rng.integers(2**32)))
        self.paths = build_paths(self.params["air_km_equivalent"])
        self.path_lookup = PathLookup(self.paths, self.params["travel_km_per_month"])
        self.alternatives = alternative_table(self.paths)
        self.emigration_base = self.params.vector("emigration_base", ORIGINS)
        attractiveness = np.zeros(N_C)
        attractiveness[[CODES.index(h) for h in HOSTS]] = self.params.vector(
            "host_attractiveness", HOSTS
        )
        self.host_attractiveness = attractiveness
        self.us_preference = self.params.vector("us_preference", ORIGINS)
        self.segment_mortality = np.array([self.params[mortality_name(s)] for s in SEGMENTS])
        self.has_onward_paths = np.array(
            [len(self.paths.by_start.get(c, ())) > 0 for c in range(N_C)]
        )
        self._last_path_values = None  # last month's path values (mechanisms/news.py)
        # what migrants believed last month the US border costs them (``us_border_belief``):
        # the utilities of a month read it, so building them again gives the same values
        self.us_border_belief_before = None
        # the onward pull settled migrants have come to expect (mechanisms/settlement.py)
        self.expected_onward_pull = None
        self.expected_onward_pull_if_open = None
        self.pop = Population(capacity=4096)
        self.recorder = Recorder(self.n_months, self.scale)
        self.group_counts = np.zeros(N_C * N_O * N_S * N_F, dtype=np.int64)
        self.countries = {code: Country(self, code) for code in CODES}

    # ------------------------------------------------------------------ the month
    @property
    def t(self) -> int:
        """Index into the policy arrays of the month being run (inside ``step``) or of the
        next month to run (between steps, the months run so far). Derived from Mesa's own
        step counter, which Mesa advances just before it calls ``step``."""
        return self.steps - 1 if self._in_step else self.steps

    @property
    def month(self) -> int:
        """Calendar month index (months since 2000-01) of the step being run."""
        return self.first_month + self.t

    @property
    def month_label(self) -> str:
        return format_month(self.month)

    def step(self) -> None:
        self._in_step = True
        try:
            if self.t < self.n_months:
                self._month()
        finally:
            self._in_step = False
        if self.t >= self.n_months:
            self.running = False

    def _month(self) -> None:
        """The five steps of one month, in order."""
        self._open_slots()
        if self.t > 0:
            self.us_border_belief_before = self.utilities.us_believed
        self.utilities = MonthlyUtilities(self)
        react_to_news(self, self._last_path_values)  # travellers hear of policy changes
        self._last_path_values = path_values(self.utilities)
        new = emigrate(self)  # 1. emigration
        #    2. choice, and legal pathways at origin, or waiting at home for a place on
        #    one: open to those who want to reach the pathway's destination, were its roads
        #    open or not
        chosen, wanted = choose_emigrants(self, new, self.pathways_open())
        diverted, waiting = divert(self, new, wanted, at_origin=True, may_wait=True)
        going = ~diverted & ~waiting & (chosen >= 0)
        start_journey(self, new[going], chosen[going])
        origins = self.pop.origin[new[diverted | going]]
        self.recorder.events_at("emigrated", ORIGIN_NODE[origins], origins)
        # every path closed, or waiting at home: no one left
        self.pop.mark_removed(new[~diverted & ~going])
        move(self)  # 3. movement, interdiction, Darién
        settle(self)  # 4. settlement
        self.expected_onward_pull, self.expected_onward_pull_if_open = remember_onward_pull(self)
        self._record()  # 5. recording

    def run(self, progress=None) -> None:
        """Run to the end of the window; ``progress(t, n)`` is called after each month."""
        while self.running:
            self.step()
            if progress is not None:
                progress(self.t, self.n_months)

    def _record(self) -> None:
        self.group_counts = group_counts(self.pop)
        self.recorder.end_month(self.group_counts)
        self.pop.compact()

    # --------------------------------------------------------- shared derived state
    @property
    def host_stock_people(self) -> np.ndarray:
        """People settled in each country by origin at the end of last month, (C, O)."""
        counts = self.group_counts.reshape(N_C, N_O, N_S, N_F)
        return counts[:, :, SETTLED, :].sum(axis=(2, 3)) * float(self.scale)

    @property
    def diaspora_people(self) -> np.ndarray:
        """People of each origin settled abroad, (O,)."""
        stock = self.host_stock_people
        return stock[HOST_MASK].sum(axis=0)

    def death_probability(self, interdiction: np.ndarray | None = None) -> np.ndarray:
        """Probability of dying in one crossing of each edge this month, by origin (E, O):
        the segment's mortality, raised by enforcement on the edge (riskier tracks, ODD 7.4),
        this month's or the ``interdiction`` (E, O) given. Edges outside the risky segments
        (``SEGMENT_EDGES``) have none."""
        p = self.params
        base = np.where(EDGE_SEGMENT >= 0, self.segment_mortality[EDGE_SEGMENT], 0.0)
        if interdiction is None:
            interdiction = self.policy.interdiction[self.t]  # (E, O)
        return base[:, None] * (1.0 + p["mortality_enforcement_factor"] * interdiction)

    def darien_death_probability(self) -> np.ndarray:
        """Probability of dying in one Darién crossing this month, by origin (O,)."""
        return self.death_probability()[EDGE_INDEX[DARIEN]]

    def programme_state(self, t: int):
        """Open programmes this month: open (O, C), capacity (C,), arrival cut-off (C, O)."""
        open_ = np.zeros((N_O, N_C), dtype=bool)
        capacity = np.zeros(N_C)
        cutoff = np.full((N_C, N_O), -(10**6), dtype=np.int64)
        for prog in self.policy.programmes:
            if not prog.active[t]:
                continue
            open_[prog.origins, prog.host] = True
            capacity[prog.host] += prog.capacity[t]
            cutoff[prog.host, prog.origins] = np.maximum(
                cutoff[prog.host, prog.origins], prog.cutoff
            )
        return open_, capacity, cutoff

    def pathways_open(self) -> bool:
        """Whether any legal pathway has places this month."""
        return any(pw.capacity[self.t] > 0 for pw in self.policy.pathways)

    def _slots(self, lever: int, index: int, agents: float) -> int:
        """Whole places this month for a capacity of ``agents`` (a fraction of an agent is
        one more place with that probability). The draw is fixed per (lever, month), so a
        larger capacity never gives fewer places in any month (common random numbers)."""
        if agents <= 0:
            return 0
        u = self.streams.event_uniform(self.month, PURPOSE_SLOTS, lever * 1000 + index)
        return int(np.floor(agents + u))

    def _open_slots(self) -> None:
        """Places this month for every capacity-limited lever, fixed before anyone applies,
        so that they never depend on how many applied (common random numbers)."""
        t, sched = self.t, self.policy
        self.pathway_slots = [
            self._slots(0, k, pw.capacity[t] / self.scale) for k, pw in enumerate(sched.pathways)
        ]
        # the pathways with places this month (the others take no one): the engine asks
        # several hundred times a run
        self.pathways_with_places = [k for k, pw in enumerate(sched.pathways) if pw.capacity[t] > 0]
        _, capacity, _ = self.programme_state(t)
        self.programme_slots = [self._slots(1, c, capacity[c] / self.scale) for c in range(N_C)]
        self.integration_slots = [
            self._slots(2, c, sched.integration_capacity[t, c] / self.scale) for c in range(N_C)
        ]
