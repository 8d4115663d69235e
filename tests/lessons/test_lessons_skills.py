"""Every skill a lesson teaches is exercised by some question generator, so "practise this" has
questions to draw: 300 variants per family and difficulty are sampled and their skills collected."""

from __future__ import annotations

from functools import cache

from lessons.content import CONTENT_DIR, read_course
from questions.generators import registry
from questions.generators.base import Difficulty

SAMPLES_PER_DIFFICULTY = 300


@cache
def exercised_skills() -> frozenset[str]:
    found: set[str] = set()
    for name in registry.families():
        for difficulty in Difficulty:
            for seed in range(SAMPLES_PER_DIFFICULTY):
                found.update(registry.make_variant(name, seed, difficulty).skills)
    return frozenset(found)


def test_lessons_every_skill_has_a_generator() -> None:
    """No lesson declares a skill that no generator's variants are tagged with."""
    course = read_course(CONTENT_DIR)
    exercised = exercised_skills()
    missing = sorted(
        {
            (skill, x.slug)
            for x in course.lessons
            if x.lang == "en"
            for skill in x.skills
            if skill not in exercised
        }
    )
    by_skill: dict[str, list[str]] = {}
    for skill, slug in missing:
        by_skill.setdefault(skill, []).append(slug)
    assert by_skill == {}, (
        f"{len(by_skill)} lesson skills are exercised by no generator "
        f"(families: {', '.join(registry.families())}): {by_skill}"
    )
