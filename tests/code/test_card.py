"""The model card says what a reviewer needs: data and digest, labels, metrics with their data, threshold, use, limits."""

from mlflow.entities.model_registry import ModelVersion, ModelVersionTag

from pipelines.card import MetricsRow, render_card
from pipelines.config import DEMO_FILE

PARAMS = {
    "data.source": str(DEMO_FILE),
    "data.digest": "6626f1f24cfc7c96",
    "data.cases": "600",
    "data.train_cases": "480",
    "data.test_cases": "120",
    "split.seed": "20261125",
    "review.target_precision": "0.95",
}
TRAINED = {
    "macro_f1": 0.881,
    "accuracy": 0.883,
    "review_threshold": 0.4154,
    "review_precision": 0.957,
    "review_coverage": 0.783,
    "keyword_baseline_macro_f1": 0.548,
    "f1_merchant": 0.85,
}


def card(
    tags: list[ModelVersionTag] | None = None, params: dict[str, str] = PARAMS, extra_rows: dict | None = None
) -> str:
    version = ModelVersion(
        "liability-classifier", "3", 1795595163522, run_id="r" * 32, aliases=["candidate"], tags=tags or []
    )
    rows = [
        MetricsRow("held-out split at training", 120, TRAINED, "r" * 32),
        MetricsRow(
            "dev (gold)",
            702,
            {"macro_f1": 0.612, "macro_f1_ci_low": 0.575, "macro_f1_ci_high": 0.648, "accuracy": 0.655},
            "e" * 32,
        ),
    ]
    return render_card(version, params, {"merchant": 192, "none": 92}, rows, extra_rows)


def test_card_names_data_metrics_threshold_use_and_limits():
    text = card()
    assert text.startswith("# liability-classifier v3")
    assert "6626f1f24cfc7c96" in text and "`disputes.csv` (synthetic demo corpus)" in text
    assert "| merchant (商家) | 192 | 67.6% |" in text
    assert "| dev (gold) | 702 | 0.612 | 0.575–0.648 | 0.655 | – |" in text
    assert "| held-out split at training | 120 | 0.881 | – | 0.883 |" in text  # a run from before the intervals
    assert "**0.415**" in text and "precision 0.957" in text and "78% of cases" in text
    assert "## Intended use" in text and "## Known limits" in text and "overstate" in text
    assert "## Promotion" not in text


def test_card_shows_the_promotion_decision():
    text = card(
        [ModelVersionTag("promotion.decision", "refused"), ModelVersionTag("promotion.reason", "v3 0.5 vs v2 0.6")]
    )
    assert "- **decision:** refused" in text and "- **reason:** v3 0.5 vs v2 0.6" in text


def test_card_of_a_model_fit_on_every_case_says_it_was_cross_validated():
    refit = PARAMS | {"data.train_cases": "600", "data.test_cases": "600", "split.refit": "True", "split.folds": "5"}
    text = card(params=refit)
    assert "600 cases, all to train; measured by 5-fold cross-validation" in text
    assert "chosen on the out-of-fold predictions (5 folds)" in text
    assert "held out" not in card(params=refit) and "480 to train, 120 held out" in card()


FEW = {
    "fewlabel.unlabeled_texts": "7238",
    "fewlabel.pool_texts": "7000",
    "fewlabel.members": "cues,vectors",
    "fewlabel.vector_weight": "0.5",
    "fewlabel.vector_skip_genres": "['chat']",
}
EXTRA = {"weak": {"merchant": 900, "logistics": 600}, "demo": {"merchant": 3000, "none": 3000}, "secondary": {}}


def test_card_of_a_few_label_model_says_what_else_it_learned_from():
    text = card(params=PARAMS | FEW, extra_rows=EXTRA)
    assert "7,238 unlabeled texts read, 7,000 of them not among the cases it was fit on" in text
    assert "1,500 weak-labeled by the labeling functions; 6,000 from the synthetic demo corpus." in text
    assert "labeling functions' firings is averaged in" in text
    assert "word vectors has 0.5 of the say on every genre except chat" in text
    assert "unlabeled texts" not in card()


def test_card_of_a_few_label_model_logged_before_its_parts_were():
    old = {k: v for k, v in FEW.items() if k in ("fewlabel.unlabeled_texts", "fewlabel.vector_weight")}
    text = card(params=PARAMS | old, extra_rows={"self": {"merchant": 10}})
    assert "7,238 unlabeled texts read. Extra weighted rows: 10 pseudo-labeled by a first fit." in text
    assert "Besides the text model" not in text
