"""The LoCoMo scorer on tiny hand-made data: evidence normalisation, recall and nDCG arithmetic."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from memhub.benchmarks.locomo import group_names, quick_slice, split_names
from memhub.benchmarks.locomo_data import CATEGORIES, Question, load, normalise_evidence, parse_date
from memhub.benchmarks.scoring import (
    Tally,
    evidence_mrr,
    evidence_recall,
    ndcg,
    percentile,
    recall_all,
    recall_any,
    score_question,
)

KNOWN = {"D8:6", "D9:17", "D9:1", "D4:4", "D4:6", "D11:26", "D30:5", "D10:18"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["D8:6; D9:17"], ("D8:6", "D9:17")),  # two ids in one string
        (["D9:1 D4:4 D4:6"], ("D9:1", "D4:4", "D4:6")),  # space separated
        (["D:11:26"], ("D11:26",)),  # extra colon
        (["D30:05"], ("D30:5",)),  # leading zero in the turn number
        (["D8:6", "D8:6,D9:17"], ("D8:6", "D9:17")),  # duplicates and commas
        (["D10:19", "D", "D10:18"], ("D10:18",)),  # unresolvable ids are dropped
        ([], ()),
    ],
)
def test_evidence_normalisation(raw: list[str], expected: tuple[str, ...]) -> None:
    assert normalise_evidence(raw, KNOWN) == expected


def test_normalisation_without_known_ids_keeps_well_formed_ones() -> None:
    assert normalise_evidence(["D:3:007", "junk", "D2:1"]) == ("D3:7", "D2:1")


def test_recall_is_fractional_over_the_union_of_provenance() -> None:
    ranked = [["a"], ["x", "b"], ["y"], ["c"]]
    evidence = ["a", "b", "c"]
    assert evidence_recall(evidence, ranked, 1) == pytest.approx(1 / 3)
    assert evidence_recall(evidence, ranked, 2) == pytest.approx(2 / 3)
    assert evidence_recall(evidence, ranked, 3) == pytest.approx(2 / 3)
    assert evidence_recall(evidence, ranked, 10) == 1.0
    assert recall_all(evidence, ranked, 2) == 0.0 and recall_all(evidence, ranked, 4) == 1.0
    assert recall_any(evidence, ranked, 1) == 1.0 and recall_any(["z"], ranked, 4) == 0.0


def test_memories_without_provenance_cover_nothing_and_summaries_cover_many() -> None:
    assert evidence_recall(["a"], [[], [], ["a"]], 2) == 0.0
    assert evidence_recall(["a", "b"], [["a", "b", "c", "d"]], 1) == 1.0


def test_recall_without_evidence_is_refused() -> None:
    with pytest.raises(ValueError):
        evidence_recall([], [["a"]], 5)


def test_ndcg_binary_at_memory_level() -> None:
    # relevant at ranks 1 and 3, two evidence turns: DCG = 1 + 1/log2(4), IDCG = 1 + 1/log2(3)
    value = ndcg(["a", "b"], [["a"], ["x"], ["b"]], 10)
    assert value == pytest.approx((1 + 1 / 2) / (1 + 1 / math.log2(3)))
    assert ndcg(["a"], [["x"], ["a"]], 10) == pytest.approx(1 / math.log2(3))
    assert ndcg(["a"], [["x"]] * 10 + [["a"]], 10) == 0.0
    assert ndcg(["a", "b"], [["a", "b"]], 10) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ndcg_ideal_uses_the_number_of_relevant_memories_capped_at_k() -> None:
    # an episode and a fact both cite "a": two relevant memories, both returned on top = perfect
    assert ndcg(["a"], [["a"], ["a"]], 10, relevant_total=2) == pytest.approx(1.0)
    assert ndcg(["a", "b", "c"], [["a"], ["b"]], 2) == pytest.approx(1.0)


def test_mrr_averages_first_ranks_over_evidence() -> None:
    assert evidence_mrr(["a", "b"], [["x"], ["a"], ["b", "a"]]) == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert evidence_mrr(["z"], [["a"]]) == 0.0


def test_score_question_names_and_tally_means() -> None:
    scores = score_question(["a", "b"], [["a"], ["b"]], ks=(1, 2))
    assert scores["R@1"] == 0.5 and scores["R@2"] == 1.0 and scores["Rall@2"] == 1.0
    assert set(scores) >= {"nDCG@10", "MRR", "Rany@1"}
    tally = Tally()
    tally.add({"R@1": 1.0})
    tally.add({"R@1": 0.0})
    assert tally.n == 2 and tally.means() == {"R@1": 0.5}
    assert Tally().means() == {}


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_category_mapping_is_the_official_one() -> None:
    assert CATEGORIES == {
        1: "multi-hop",
        2: "temporal",
        3: "open-domain",
        4: "single-hop",
        5: "adversarial",
    }
    assert group_names(Question("q", 4, ("D1:1",))) == ("cats 1-4", "single-hop")
    assert group_names(Question("q", 5, ("D1:1",))) == ("adversarial",)
    assert split_names(4) == ("all", "conv 0-4") and split_names(5) == ("all", "conv 5-9")


def _tiny_file(tmp_path: Path) -> Path:
    conv = {
        "speaker_a": "Ann",
        "speaker_b": "Bo",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ann", "dia_id": "D1:1", "text": "hi"},
            {"speaker": "Bo", "dia_id": "D1:2", "text": "look", "blip_caption": "a photo of a cat"},
        ],
        "session_2_date_time": "9:00 am on 1 June, 2023",
        "session_2": [{"speaker": "Ann", "dia_id": "D2:1", "text": "bye"}],
        "session_3_date_time": "9:00 am on 2 June, 2023",  # a date without a session, as in conv-26
    }
    qa = [
        {"question": "q1", "answer": "x", "evidence": ["D1:2; D2:01"], "category": 1},
        {"question": "q2", "adversarial_answer": "y", "evidence": ["D:1:1", "D7:1"], "category": 5},
        {"question": "q3", "answer": "z", "evidence": [], "category": 3},
    ]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps([{"sample_id": "conv-x", "conversation": conv, "qa": qa}]))
    return path


def test_load_parses_sessions_dates_captions_and_evidence(tmp_path: Path) -> None:
    (conv,) = load(_tiny_file(tmp_path))
    assert conv.speakers == ("Ann", "Bo")
    assert [s.number for s in conv.sessions] == [1, 2]
    assert conv.sessions[0].when == parse_date("1:56 pm on 8 May, 2023")
    assert conv.sessions[0].when.hour == 13 and conv.sessions[0].when.minute == 56
    assert conv.sessions[0].turns[1].caption == "a photo of a cat"
    assert [q.evidence for q in conv.questions] == [("D1:2", "D2:1"), ("D1:1",), ()]
    assert conv.questions[1].answer == "y"
    assert conv.turn_count() == 3


def test_quick_slice_keeps_questions_answerable_from_the_kept_sessions(tmp_path: Path) -> None:
    (conv,) = load(_tiny_file(tmp_path))
    small = quick_slice(conv, sessions=1)
    assert [s.number for s in small.sessions] == [1]
    assert [q.question for q in small.questions] == ["q2"]
