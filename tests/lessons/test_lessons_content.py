"""The course's content: every topic and correction of the source material is taught, in both
languages; every scenario runs in the engine; every skill id exists; the glossary has the core terms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from lessons.content import (
    CONTENT_DIR,
    LANGS,
    LessonSource,
    lesson_problems,
    read_course,
    read_glossary,
    scenario_ids_in,
    skill_problem,
)
from questions.engine import State
from questions.engine.scenario import run_scenario

SEEDS_README = Path(settings.BASE_DIR).parent / "shared" / "seeds" / "README.md"
TOPICS = yaml.safe_load((CONTENT_DIR / "topics.yaml").read_text(encoding="utf-8"))
COURSE = read_course(CONTENT_DIR)
LESSONS: dict[tuple[str, str], LessonSource] = {(x.slug, x.lang): x for x in COURSE.lessons}

# A characteristic keyword of each topic: a lesson that lists the topic must contain one of them.
TOPIC_KEYWORDS: dict[str, dict[str, list[str]]] = {
    "four_way_close_seq_ack": {"en": ["u+1", "w+1"], "zh-hans": ["u+1", "w+1"]},
    "half_close": {"en": ["SHUT_WR", "half-close"], "zh-hans": ["SHUT_WR", "半关闭"]},
    "why_three_four": {"en": ["four segments", "three segments"], "zh-hans": ["四个报文段", "三个报文段"]},
    "why_2msl_lost_ack": {"en": ["2MSL"], "zh-hans": ["2MSL"]},
    "socket_primitives": {"en": ["bind()"], "zh-hans": ["bind()"]},
    "isn_ack_arithmetic": {"en": ["x+1"], "zh-hans": ["x+1"]},
    "stale_duplicate_syn": {"en": ["RST"], "zh-hans": ["RST"]},
    "simultaneous_open": {"en": ["SYN_RECEIVED"], "zh-hans": ["SYN_RECEIVED"]},
    "msl_2min_rfc793": {"en": ["2 minutes"], "zh-hans": ["2 分钟"]},
    "simultaneous_close": {"en": ["CLOSING"], "zh-hans": ["CLOSING"]},
    "delayed_stale_syn": {"en": ["delayed", "old"], "zh-hans": ["迟到", "滞留", "旧"]},
    "full_duplex": {"en": ["full duplex", "full-duplex"], "zh-hans": ["全双工"]},
    "time_wait_two_reasons": {
        "en": ["two reasons", "old segments"],
        "zh-hans": ["两个理由", "两个原因", "旧报文段"],
    },
    "six_flags": {"en": ["URG"], "zh-hans": ["URG"]},
    "socket_call_segments": {"en": ["accept()"], "zh-hans": ["accept()"]},
    "windows_240s": {"en": ["Windows"], "zh-hans": ["Windows"]},
    "msl_vs_ttl": {"en": ["TTL"], "zh-hans": ["TTL"]},
    "linux_60s": {"en": ["TCP_TIMEWAIT_LEN", "60 s"], "zh-hans": ["TCP_TIMEWAIT_LEN", "60 秒"]},
    "only_active_closer": {"en": ["active closer"], "zh-hans": ["主动关闭"]},
    "time_wait_pileup": {"en": ["ephemeral"], "zh-hans": ["临时端口"]},
    "tw_reuse": {"en": ["tcp_tw_reuse"], "zh-hans": ["tcp_tw_reuse"]},
    "keepalive": {"en": ["tcp_keepalive_time"], "zh-hans": ["tcp_keepalive_time"]},
    "state_view": {"en": ["LAST_ACK"], "zh-hans": ["LAST_ACK"]},
    "three_ways_into_time_wait": {"en": ["FIN_WAIT_1"], "zh-hans": ["FIN_WAIT_1"]},
    "closed_fictional": {"en": ["fictional"], "zh-hans": ["虚构"]},
    "late_fin_rst": {"en": ["RST"], "zh-hans": ["RST"]},
}
CORRECTION_KEYWORDS: dict[str, dict[str, list[str]]] = {
    "passive_closer_time_wait": {"en": ["active closer"], "zh-hans": ["主动关闭方"]},
    "time_wait_server_side": {
        "en": ["whichever side", "whichever machine", "client or the server"],
        "zh-hans": ["先关闭的", "先发 FIN 的一方"],
    },
    "close_wait_spelling": {"en": ["CLOSED_WAIT"], "zh-hans": ["CLOSED_WAIT"]},
    "msl_ttl_units": {"en": ["hop"], "zh-hans": ["跳"]},
    "tw_reuse_outgoing_only": {"en": ["outgoing"], "zh-hans": ["外连", "主动发起", "出站"]},
    "lost_segments_retransmitted": {"en": ["retransmi"], "zh-hans": ["重传"]},
    "four_way_wave_term": {"en": ["四次挥手"], "zh-hans": ["四次挥手"]},
    "rfc793_obsoleted": {"en": ["RFC 9293"], "zh-hans": ["RFC 9293"]},
}

# The seeds README, item by item: (source file, words of its table row or bullet, topic/correction key).
README_TOPICS: list[tuple[str, str, str]] = [
    ("000", "four-way close step by step with Seq/Ack arithmetic", "four_way_close_seq_ack"),
    ("000", "half-close", "half_close"),
    ("000", "why 3 to open and 4 to close", "why_three_four"),
    ("000", "why the active closer waits 2MSL", "why_2msl_lost_ack"),
    ("001", "handshake with socket primitives", "socket_primitives"),
    ("001", "ISN i/j and ack i+1/j+1", "isn_ack_arithmetic"),
    ("001", "why the third segment prevents stale duplicate connection requests", "stale_duplicate_syn"),
    ("001", "**simultaneous open**", "simultaneous_open"),
    ("001", "four-way close with half-close", "half_close"),
    ("001", "MSL = 2 min per RFC 793", "msl_2min_rfc793"),
    ("001", "**simultaneous close**", "simultaneous_close"),
    ("002", "why three (delayed stale SYN wastes server resources)", "delayed_stale_syn"),
    ("002", "why four (full duplex, each direction closed on its own)", "full_duplex"),
    ("002", "the two reasons for TIME_WAIT", "time_wait_two_reasons"),
    ("002", "the six flags", "six_flags"),
    ("002", "which socket call triggers which segment", "socket_call_segments"),
    ("002", "TIME_WAIT of 240 s on Windows", "windows_240s"),
    ("003", "four-way close", "four_way_close_seq_ack"),
    ("003", "MSL vs IP TTL", "msl_vs_ttl"),
    ("003", "Linux's 60 s TIME_WAIT", "linux_60s"),
    ("003", "only the active closer enters TIME_WAIT", "only_active_closer"),
    ("003", "many TIME_WAIT sockets on servers that close first", "time_wait_pileup"),
    ("003", "`net.ipv4.tcp_tw_reuse`", "tw_reuse"),
    ("003", "keepalive (`tcp_keepalive_time=7200`", "keepalive"),
    ("004", "the state-transition view", "state_view"),
    ("004", "the three ways into TIME_WAIT", "three_ways_into_time_wait"),
    ("004", "CLOSED as a fictional state", "closed_fictional"),
    ("004", "without TIME_WAIT a late FIN would be answered with RST", "late_fin_rst"),
]
README_CORRECTIONS: list[tuple[str, str, str]] = [
    ("002", "says the *passive* closer enters TIME_WAIT", "passive_closer_time_wait"),
    ("002", 'calls TIME_WAIT the state "after the server sends FIN"', "time_wait_server_side"),
    ("003", "writes `CLOSED_WAIT`", "close_wait_spelling"),
    ("003", '"MSL ≥ TTL" compares seconds with a hop count', "msl_ttl_units"),
    ("003", "`tcp_tw_reuse` lets a *new outgoing* connection", "tw_reuse_outgoing_only"),
    ("000", '"if any segment is lost the close cannot continue"', "lost_segments_retransmitted"),
    ("002", "titles say 四次握手 for the close", "four_way_wave_term"),
    ("RFC", "RFC 793 is obsoleted by **RFC 9293**", "rfc793_obsoleted"),
]


def _readme() -> str:
    assert SEEDS_README.is_file(), (
        f"the seeds README is missing at {SEEDS_README} (../shared beside the repo)"
    )
    return SEEDS_README.read_text(encoding="utf-8")


def _lessons_listing(field: str, key: str, lang: str) -> list[LessonSource]:
    return [
        x for (_slug, x_lang), x in sorted(LESSONS.items()) if x_lang == lang and key in getattr(x, field)
    ]


def _assert_taught(field: str, key: str, keywords: dict[str, list[str]]) -> None:
    for lang in LANGS:
        lessons = _lessons_listing(field, key, lang)
        assert lessons, f"no {lang} lesson lists {key!r} in its {field}"
        for lesson in lessons:
            body = lesson.body_markdown.casefold()
            assert any(word.casefold() in body for word in keywords[lang]), (
                f"{lesson.slug} ({lang}) lists {key!r} but mentions none of {keywords[lang]}"
            )


def test_content_reads_without_problems() -> None:
    """Every lesson file and the glossary pass the same checks load_lessons applies."""
    assert COURSE.problems == []
    assert len(COURSE.lessons) >= 2 * 15


@pytest.mark.parametrize("key", sorted(TOPICS["topics"]))
def test_content_topic_taught(key: str) -> None:
    """Each topic of topics.yaml is listed by a lesson in each language whose body names it."""
    _assert_taught("topics", key, TOPIC_KEYWORDS[key])


@pytest.mark.parametrize("key", sorted(TOPICS["corrections"]))
def test_content_correction_taught(key: str) -> None:
    """Each correction of the sources is listed by a lesson in each language whose body teaches it."""
    _assert_taught("corrects", key, CORRECTION_KEYWORDS[key])


def test_content_keyword_tables_match_topics_yaml() -> None:
    """A topic or correction added to topics.yaml needs its keyword here (and none is stale)."""
    assert set(TOPIC_KEYWORDS) == set(TOPICS["topics"])
    assert set(CORRECTION_KEYWORDS) == set(TOPICS["corrections"])


def test_content_readme_topics_all_mapped() -> None:
    """Every item of the seeds README's table maps to a topic key, and every file's row is covered."""
    readme = _readme()
    rows = {
        m.group(1): m.group(2) for m in re.finditer(r"^\| `(\d{3})_[0-9a-f]+\.txt` \| (.+) \|$", readme, re.M)
    }
    assert sorted(rows) == ["000", "001", "002", "003", "004"]
    for source, words, key in README_TOPICS:
        assert words in rows[source], f"README row {source} no longer says {words!r}"
        assert key in TOPICS["topics"], key
    assert {key for _s, _w, key in README_TOPICS} == set(TOPICS["topics"])


def test_content_readme_corrections_all_mapped() -> None:
    """Every bullet of the README's "where the sources are wrong" maps to a correction key."""
    readme = _readme()
    section = readme.split("## Where the sources are wrong", 1)[1]
    bullets = [b for b in re.split(r"\n- ", section) if b.strip() and not b.startswith(" or loose")]
    for _source, words, key in README_CORRECTIONS:
        assert words in section, f"the README no longer says {words!r}"
        assert key in TOPICS["corrections"], key
    assert {key for _s, _w, key in README_CORRECTIONS} == set(TOPICS["corrections"])
    # Each bullet is matched by at least one mapped phrase.
    for bullet in bullets:
        assert any(words in bullet for _s, words, _k in README_CORRECTIONS), bullet[:80]


def test_content_every_lesson_in_both_languages() -> None:
    """A slug exists in English and Chinese, with the same order, skills, topics and scenarios."""
    slugs = {lang: {slug for slug, x_lang in LESSONS if x_lang == lang} for lang in LANGS}
    assert slugs["en"] == slugs["zh-hans"]
    for slug in slugs["en"]:
        en, zh = LESSONS[slug, "en"], LESSONS[slug, "zh-hans"]
        assert en.order == zh.order, slug
        assert en.skills == zh.skills, slug
        assert sorted(en.topics) == sorted(zh.topics), slug
        assert sorted(en.corrects) == sorted(zh.corrects), slug
        assert en.scenarios == zh.scenarios, slug
        assert scenario_ids_in(en.body_markdown) == scenario_ids_in(zh.body_markdown), slug


@pytest.mark.parametrize(
    ("slug", "scenario_id"),
    sorted({(x.slug, s["id"]) for x in COURSE.lessons for s in x.scenarios}),
)
def test_content_scenario_runs_in_engine(slug: str, scenario_id: str) -> None:
    """Every scenario a lesson shows is run by the engine from the lesson's data, without error."""
    for lang in LANGS:
        scenario = next(s for s in LESSONS[slug, lang].scenarios if s["id"] == scenario_id)
        lines = run_scenario(scenario["spec"])
        assert lines, scenario_id
        assert lines[-1]["step"] == len(scenario["spec"]["steps"])


def test_content_every_skill_is_an_engine_id() -> None:
    """Every skill a lesson declares is a concept of the engine or a row of its table."""
    bad = {(x.slug, s, skill_problem(s)) for x in COURSE.lessons for s in x.skills if skill_problem(s)}
    assert bad == set()


def test_content_lesson_problems_rejects_bad_scenario() -> None:
    """A scenario the engine rejects, a marker without a scenario and an unknown skill are reported."""
    problems = lesson_problems(
        body_markdown="Text\n\n{{ scenario:ghost }}\n",
        skills=["c:nonsense", "t:LISTEN:teleport"],
        scenarios=[{"id": "bad", "title": {"en": "x", "zh-hans": "x"}, "spec": {"steps": [{"do": "fly"}]}}],
    )
    text = "\n".join(problems)
    assert "c:nonsense" in text
    assert "t:LISTEN:teleport" in text
    assert "rejected by the engine" in text
    assert "'ghost'" in text


def test_content_glossary_has_core_terms() -> None:
    """The glossary names the handshake, the close, half-close, 2MSL and every state, in both languages."""
    entries = read_glossary(CONTENT_DIR / "glossary.yaml")
    zh = " ".join(f"{e.term} {e.aliases}" for e in entries if e.lang == "zh-hans")
    en = " ".join(f"{e.term} {e.aliases}" for e in entries if e.lang == "en")
    for term in ("三次握手", "三报文握手", "四次挥手", "半关闭", "2MSL"):
        assert term in zh, term
    for term in ("three-way handshake", "four-way close", "half-close", "2MSL"):
        assert term in en, term
    for state in State:
        assert state.name in zh, state.name
        assert state.name in en, state.name
