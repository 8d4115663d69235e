"""The TCP engine: one transition table of data, two profiles, endpoints, a simulator and tools.

Standard library only: importing it never imports Django or Celery.
"""

from questions.engine.concepts import CONCEPTS, EVENT_NAMES, STATE_NAMES, state_label
from questions.engine.core import (
    APP_EVENTS,
    ENGINE_VERSION,
    FLAGS,
    SEGMENT_EVENTS,
    TIMER_EVENTS,
    Effect,
    Event,
    IllegalTransition,
    State,
    Transition,
)
from questions.engine.diagrams import TEXTBOOK_ARCS, arc_label, ladder_svg, state_diagram_svg
from questions.engine.profiles import (
    CONDITIONS,
    LINUX,
    OPTION_NAMES,
    PROFILES,
    RFC9293,
    Profile,
    legal_events,
    profile,
    table_fingerprint,
    transition,
    transitions,
)
from questions.engine.sampling import sample_covering_walks, sample_scenario, sample_walk
from questions.engine.scenario import ScenarioError, iter_scenario, run_scenario, simulate
from questions.engine.simulation import Endpoint, Segment, Simulation, WireError
from questions.engine.table import TABLE

__all__ = [
    "APP_EVENTS",
    "CONCEPTS",
    "CONDITIONS",
    "ENGINE_VERSION",
    "EVENT_NAMES",
    "FLAGS",
    "LINUX",
    "OPTION_NAMES",
    "PROFILES",
    "RFC9293",
    "SEGMENT_EVENTS",
    "STATE_NAMES",
    "TABLE",
    "TEXTBOOK_ARCS",
    "TIMER_EVENTS",
    "Effect",
    "Endpoint",
    "Event",
    "IllegalTransition",
    "Profile",
    "ScenarioError",
    "Segment",
    "Simulation",
    "State",
    "Transition",
    "WireError",
    "arc_label",
    "iter_scenario",
    "ladder_svg",
    "legal_events",
    "profile",
    "run_scenario",
    "sample_covering_walks",
    "sample_scenario",
    "sample_walk",
    "simulate",
    "state_diagram_svg",
    "state_label",
    "table_fingerprint",
    "transition",
    "transitions",
]
