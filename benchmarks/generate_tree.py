"""Generate a large, realistic ZenML monorepo for benchmarking ``pvcheck scan``.

The default tree is the one issue 7 asks for: about 1,600 files and 65,000 lines.

* 150 pipeline packages ``projects/pNNN_<topic>/``, each laid out the way ZenML projects
  usually are: one step per module under ``steps/`` (re-exported by ``steps/__init__``),
  helpers under ``utils/`` (some used by steps, some not), a ``pipelines/`` module, a
  ``run.py`` that applies a YAML run config with ``with_options(config_path=...)``, and
  ``configs/training.yaml``.
* a small ``common/`` package of helpers that steps of many packages import;
* ordinary library code under ``mlplatform/`` that no step uses: data access, feature
  definitions, model wrappers, small services -- the bulk of a real repository that a
  pipeline analyzer must not spend time on. (Not ``platform/``: run from inside the
  tree, ``python -m`` would import it instead of the standard library's ``platform``.)

The output is deterministic for a given ``--seed``: two runs write identical bytes.
Nothing here is ever imported by pvcheck; it only needs to parse.

    python benchmarks/generate_tree.py OUT [--files N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import textwrap
from dataclasses import dataclass
from pathlib import Path

#: The benchmark tree of issue 7.
DEFAULT_FILES = 1600
_PACKAGE_SHARE = 150 / 1600  # packages per file of the default tree
_FILES_PER_PACKAGE = 10  # .py files of one pipeline package (see _write_package)
_COMMON_FILES = 5

TOPICS = ("churn", "fraud", "demand", "pricing", "ranking", "search", "ads", "credit", "forecast", "vision",
          "speech", "ltv", "abuse", "routing", "inventory")
SOURCES = ("warehouse://crm/customers", "s3://lake/events", "bq://analytics.sessions", "gs://raw/orders",
           "warehouse://billing/invoices", "s3://lake/clicks")
MODELS = (("sklearn.linear_model", "LogisticRegression"), ("sklearn.ensemble", "RandomForestClassifier"),
          ("sklearn.ensemble", "GradientBoostingClassifier"), ("sklearn.linear_model", "Ridge"))


@dataclass
class TreeStats:
    files: int = 0
    lines: int = 0
    packages: int = 0
    library_files: int = 0

    def add(self, text: str) -> None:
        self.files += 1
        self.lines += text.count("\n")


def plan(files: int) -> tuple[int, int]:
    """(pipeline packages, library modules) for a tree of about ``files`` .py files."""
    packages = max(1, round(files * _PACKAGE_SHARE))
    library = max(0, files - packages * _FILES_PER_PACKAGE - _COMMON_FILES - 2 - len(_LIBRARY_AREAS))
    return packages, library


def generate(root: Path, files: int = DEFAULT_FILES, seed: int = 0) -> TreeStats:
    """Write the tree under ``root`` (created if needed) and return its size."""
    rng = random.Random(seed)
    stats = TreeStats()
    packages, library = plan(files)
    _write(root / "projects" / "__init__.py", '"""Pipeline projects of the ML platform."""\n', stats)
    _write_common(root / "common", stats)
    for number in range(packages):
        _write_package(root / "projects", number, rng, stats)
    stats.packages = packages
    _write(root / "mlplatform" / "__init__.py", '"""Shared platform code: data access, features, serving."""\n',
           stats)
    for number in range(library):
        _write_library_module(root / "mlplatform", number, rng, stats)
    stats.library_files = library
    (root / "README.md").write_text("Generated benchmark tree for pvcheck.\n", encoding="utf-8")
    return stats


def _write(path: Path, text: str, stats: TreeStats | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if stats is not None and path.suffix == ".py":
        stats.add(text)


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# --------------------------------------------------------------------------- common helpers

def _write_common(folder: Path, stats: TreeStats) -> None:
    _write(folder / "__init__.py", '"""Helpers shared by the pipeline projects."""\n', stats)
    _write(folder / "logging_setup.py", _code('''
        """One logger configuration for every project."""
        import logging
        import os

        DEFAULT_LEVEL = os.environ.get("PIPELINE_LOG_LEVEL", "INFO")


        def get_logger(name: str) -> logging.Logger:
            logger = logging.getLogger(name)
            if not logger.handlers:
                handler = logging.StreamHandler()
                handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
                logger.addHandler(handler)
            logger.setLevel(DEFAULT_LEVEL)
            return logger
        '''), stats)
    _write(folder / "metrics.py", _code('''
        """Evaluation metrics used across projects."""
        from __future__ import annotations

        import numpy as np

        EPSILON = 1e-9


        def safe_divide(numerator: float, denominator: float) -> float:
            return numerator / (denominator + EPSILON)


        def precision_recall(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
            true_positive = float(np.sum((y_true == 1) & (y_pred == 1)))
            predicted = float(np.sum(y_pred == 1))
            actual = float(np.sum(y_true == 1))
            return safe_divide(true_positive, predicted), safe_divide(true_positive, actual)


        def f1_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
            precision, recall = precision_recall(y_true, y_pred)
            return safe_divide(2 * precision * recall, precision + recall)


        def mean_absolute_percentage_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
            return float(np.mean(np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON))))
        '''), stats)
    _write(folder / "io.py", _code('''
        """Reading and writing tables in the lake."""
        import pandas as pd

        STORAGE_OPTIONS = {"anon": False, "requester_pays": True}


        def read_table(uri: str, columns: list[str] | None = None) -> pd.DataFrame:
            if uri.endswith(".csv"):
                return pd.read_csv(uri, usecols=columns, storage_options=STORAGE_OPTIONS)
            return pd.read_parquet(uri, columns=columns, storage_options=STORAGE_OPTIONS)


        def write_table(frame: pd.DataFrame, uri: str) -> str:
            frame.to_parquet(uri, index=False, storage_options=STORAGE_OPTIONS)
            return uri
        '''), stats)
    _write(folder / "validation.py", _code('''
        """Schema checks before training."""
        import pandas as pd


        class SchemaError(ValueError):
            """A frame does not have the columns a step needs."""


        def require_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise SchemaError(f"missing columns: {', '.join(missing)}")
            return frame


        def drop_constant_columns(frame: pd.DataFrame) -> pd.DataFrame:
            keep = [c for c in frame.columns if frame[c].nunique(dropna=False) > 1]
            return frame[keep]
        '''), stats)


# --------------------------------------------------------------------------- one pipeline package

def _write_package(projects: Path, number: int, rng: random.Random, stats: TreeStats) -> None:
    topic = TOPICS[number % len(TOPICS)]
    name = f"p{number:03d}_{topic}"
    package = projects / name
    dotted = f"projects.{name}"
    source = rng.choice(SOURCES)
    model_module, model_class = rng.choice(MODELS)
    target = f"{topic}_label"
    ratio = rng.choice((0.1, 0.2, 0.25, 0.3))
    features = rng.sample(("tenure_days", "sessions_7d", "spend_30d", "tickets_90d", "country", "device",
                           "plan", "age_days", "discount", "region", "channel", "basket_size"), 6)
    numeric = features[:4]
    categorical = features[4:]

    _write(package / "__init__.py", f'"""The {topic} project: training and batch scoring."""\n', stats)
    _write(package / "steps" / "__init__.py", _code(f'''
        """Steps of the {topic} pipelines."""
        from .ingest import load_raw
        from .features import build_features, split_dataset
        from .train import train_model
        from .evaluate import evaluate_model
        '''), stats)
    _write(package / "steps" / "ingest.py", _code(f'''
        """Load the raw {topic} table from the lake.

        The table is append-only; rows arrive with a delay of up to a day, so the most
        recent partition is incomplete and is left out.
        """
        import datetime as dt

        import pandas as pd
        from zenml import step

        from common.io import read_table
        from common.logging_setup import get_logger
        from {dotted}.utils.data import COLUMNS, clean_frame

        logger = get_logger(__name__)
        ALLOWED_SCHEMES = ("warehouse://", "s3://", "bq://", "gs://")


        def _validate_source(source: str) -> str:
            if not source.startswith(ALLOWED_SCHEMES):
                raise ValueError(f"unsupported source {{source!r}}")
            return source.rstrip("/")


        @step(enable_cache=False)
        def load_raw(source: str = "{source}", limit: int = {rng.choice((0, 100_000, 500_000))},
                     lookback_days: int = {rng.choice((30, 90, 180))}) -> pd.DataFrame:
            """Read the raw table and drop rows we cannot use.

            Args:
                source: where the table lives.
                limit: read at most this many rows (0: all of them).
                lookback_days: how far back to read.
            """
            frame = read_table(_validate_source(source), columns=COLUMNS)
            cutoff = pd.Timestamp(dt.date.today() - dt.timedelta(days=lookback_days))
            frame = frame[frame["event_time"] >= cutoff]
            if limit:
                frame = frame.head(limit)
            logger.info("loaded %d rows from %s", len(frame), source)
            frame = clean_frame(frame)
            # rows without a label cannot be used for training
            frame = frame[frame["{target}"].notna()]
            return frame.reset_index(drop=True)
        '''), stats)
    _write(package / "steps" / "features.py", _code(f'''
        """Feature engineering for {topic}."""
        from typing import Tuple

        import numpy as np
        import pandas as pd
        from sklearn.model_selection import train_test_split
        from typing_extensions import Annotated
        from zenml import step

        from common.validation import drop_constant_columns, require_columns
        from {dotted}.utils.data import NUMERIC, CATEGORICAL, encode_categories

        RANDOM_STATE = {rng.randint(1, 99)}
        INTERACTIONS = [("{numeric[0]}", "{numeric[1]}"), ("{numeric[2]}", "{numeric[3]}")]


        def _add_interactions(frame: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
            for left, right in pairs:
                frame[f"{{left}}_x_{{right}}"] = frame[left] * frame[right]
                frame[f"{{left}}_per_{{right}}"] = frame[left] / frame[right].replace(0, np.nan)
            return frame.fillna(0.0)


        @step
        def build_features(raw: pd.DataFrame, clip_quantile: float = {rng.choice((0.99, 0.995, 0.999))},
                           log_transform: bool = True) -> Annotated[pd.DataFrame, "features"]:
            """Clip outliers, log-transform counts, encode categories, add interactions."""
            frame = require_columns(raw, NUMERIC + CATEGORICAL + ["{target}"])
            for column in NUMERIC:
                upper = frame[column].quantile(clip_quantile)
                frame[column] = np.clip(frame[column], 0, upper)
                if log_transform:
                    frame[f"log_{{column}}"] = np.log1p(frame[column])
            frame = encode_categories(frame, CATEGORICAL)
            frame = _add_interactions(frame, INTERACTIONS)
            frame = drop_constant_columns(frame)
            print(f"built {{frame.shape[1]}} features")
            return frame


        @step
        def split_dataset(
            features: pd.DataFrame, test_size: float = {ratio}
        ) -> Tuple[Annotated[pd.DataFrame, "train_set"], Annotated[pd.DataFrame, "test_set"]]:
            """A stratified split, so rare labels appear on both sides."""
            train, test = train_test_split(
                features, test_size=test_size, random_state=RANDOM_STATE, stratify=features["{target}"]
            )
            return train.reset_index(drop=True), test.reset_index(drop=True)
        '''), stats)
    _write(package / "steps" / "train.py", _code(f'''
        """Model training for {topic}."""
        from typing import Any

        import pandas as pd
        from {model_module} import {model_class}
        from zenml import step

        from common.logging_setup import get_logger
        from {dotted}.utils.metrics import class_weights

        logger = get_logger(__name__)
        MAX_TRAIN_ROWS = {rng.choice((1_000_000, 2_000_000, 5_000_000))}


        def _model_params(n_estimators: int, seed: int, max_depth: int) -> dict[str, Any]:
            params: dict[str, Any] = {{"random_state": seed}}
            if "{model_class}".endswith("Classifier"):
                params["n_estimators"] = n_estimators
                params["max_depth"] = max_depth or None
            return params


        @step(settings={{"docker": {{"requirements": ["scikit-learn==1.5.2", "pandas>=2.2"]}}}})
        def train_model(train_set: pd.DataFrame, n_estimators: int = {rng.choice((100, 200, 400))},
                        seed: int = {rng.randint(0, 9)}, max_depth: int = {rng.choice((0, 8, 12))}) -> {model_class}:
            """Fit the {topic} model on the training split."""
            if len(train_set) > MAX_TRAIN_ROWS:
                train_set = train_set.sample(n=MAX_TRAIN_ROWS, random_state=seed)
            labels = train_set.pop("{target}")
            model = {model_class}(**_model_params(n_estimators, seed, max_depth))
            weights = labels.map(class_weights(labels))
            model.fit(train_set, labels, sample_weight=weights)
            logger.info("trained %s on %d rows", type(model).__name__, len(train_set))
            return model
        '''), stats)
    _write(package / "steps" / "evaluate.py", _code(f'''
        """Evaluation of the {topic} model."""
        import numpy as np
        import pandas as pd
        from typing_extensions import Annotated
        from zenml import ArtifactConfig, step

        from common.metrics import f1_score, precision_recall
        from {dotted}.utils.metrics import THRESHOLD, summarize


        def _best_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
            candidates = np.linspace(0.1, 0.9, 17)
            best, best_f1 = THRESHOLD, -1.0
            for candidate in candidates:
                value = f1_score(labels, (scores >= candidate).astype(int))
                if value > best_f1:
                    best, best_f1 = float(candidate), value
            return best


        @step
        def evaluate_model(model, test_set: pd.DataFrame, min_f1: float = {rng.choice((0.5, 0.6, 0.7))}
                           ) -> Annotated[dict, ArtifactConfig(name="{topic}_metrics")]:
            """Score the test split; fail the run when the model is not good enough."""
            labels = test_set.pop("{target}").to_numpy()
            scores = model.predict_proba(test_set)[:, 1]
            threshold = _best_threshold(labels, scores)
            predictions = (scores >= threshold).astype(int)
            precision, recall = precision_recall(labels, predictions)
            metrics = summarize(f1_score(labels, predictions), precision, recall)
            metrics["threshold"] = threshold
            if metrics["f1"] < min_f1:
                raise RuntimeError(f"f1 {{metrics['f1']:.3f}} is below {{min_f1}}")
            return metrics
        '''), stats)
    _write(package / "utils" / "data.py", _code(f'''
        """Column lists and cleaning for the {topic} data."""
        from __future__ import annotations

        import pandas as pd

        NUMERIC = {numeric!r}
        CATEGORICAL = {categorical!r}
        COLUMNS = NUMERIC + CATEGORICAL + ["{target}", "event_time"]
        MAX_AGE_DAYS = {rng.choice((90, 180, 365))}
        RARE_CATEGORY = "__rare__"


        def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
            """Drop duplicates, stale rows and rows without numeric features."""
            frame = frame.drop_duplicates()
            newest = frame["event_time"].max()
            frame = frame[frame["event_time"] >= newest - pd.Timedelta(days=MAX_AGE_DAYS)]
            return frame.dropna(subset=NUMERIC)


        def encode_categories(frame: pd.DataFrame, columns: list[str], min_count: int = 20) -> pd.DataFrame:
            for column in columns:
                counts = frame[column].value_counts()
                rare = set(counts[counts < min_count].index)
                frame[column] = frame[column].where(~frame[column].isin(rare), RARE_CATEGORY)
                codes = {{value: index for index, value in enumerate(sorted(frame[column].dropna().unique()))}}
                frame[column] = frame[column].map(codes).fillna(-1).astype(int)
            return frame


        def sample_for_debugging(frame: pd.DataFrame, rows: int = 1000) -> pd.DataFrame:
            """Not used by any step: handy in a notebook."""
            return frame.sample(n=min(rows, len(frame)), random_state=0)


        def describe_columns(frame: pd.DataFrame) -> dict[str, str]:
            return {{column: str(dtype) for column, dtype in frame.dtypes.items()}}


        def missing_report(frame: pd.DataFrame) -> pd.Series:
            """Share of missing values per column, worst first (for data quality dashboards)."""
            return frame.isna().mean().sort_values(ascending=False)
        '''), stats)
    _write(package / "utils" / "metrics.py", _code(f'''
        """Metric helpers for the {topic} project."""
        import pandas as pd

        THRESHOLD = {rng.choice((0.4, 0.5, 0.6))}


        def class_weights(labels: pd.Series) -> dict:
            counts = labels.value_counts()
            return {{label: len(labels) / (len(counts) * count) for label, count in counts.items()}}


        def summarize(f1: float, precision: float, recall: float) -> dict:
            return {{"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}}


        class MetricHistory:
            """Keeps the metrics of past runs for a dashboard (not used by the steps)."""

            def __init__(self) -> None:
                self.runs: list[dict] = []

            def add(self, metrics: dict) -> None:
                self.runs.append(dict(metrics))

            def best(self, key: str = "f1") -> dict:
                return max(self.runs, key=lambda run: run.get(key, 0.0)) if self.runs else {{}}

            def regressed(self, metrics: dict, key: str = "f1", tolerance: float = 0.01) -> bool:
                best = self.best(key)
                return bool(best) and metrics.get(key, 0.0) < best.get(key, 0.0) - tolerance
        '''), stats)
    if number % 3 == 0:  # a third of the projects train one model per seed
        training = ("    for seed in SEEDS:\n"
                    "        model = train_model(train_set, seed=seed)\n"
                    "        evaluate_model(model, test_set)\n")
    else:
        training = ("    model = train_model(train_set)\n"
                    "    evaluate_model(model, test_set, after=\"split_dataset\")\n")
    _write(package / "pipelines" / "training.py", _code(f'''
        """The {topic} pipelines: training, and a feature backfill."""
        from zenml import pipeline

        from {dotted}.steps import build_features, evaluate_model, load_raw, split_dataset, train_model

        SEEDS = [1, 2]


        @pipeline(name="{name}_features", enable_cache=False)
        def feature_backfill(source: str = "{source}", lookback_days: int = 365):
            """Recompute the features of a long window (no training)."""
            raw = load_raw(source=source, lookback_days=lookback_days, id="load_history")
            build_features(raw, log_transform=False)


        @pipeline(name="{name}_training", enable_cache=True)
        def training_pipeline(source: str = "{source}", test_size: float = {ratio}):
            """Load, featurize, split, train and evaluate."""
            raw = load_raw(source=source)
            features = build_features(raw)
            train_set, test_set = split_dataset(features, test_size=test_size)
        ''') + training, stats)
    _write(package / "run.py", _code(f'''
        """Run a {topic} pipeline: python -m {dotted}.run [--pipeline NAME] [--no-cache]"""
        import argparse
        import logging

        from {dotted}.pipelines.training import feature_backfill, training_pipeline

        PIPELINES = {{"training": training_pipeline, "features": feature_backfill}}


        def parse_args() -> argparse.Namespace:
            parser = argparse.ArgumentParser(description=__doc__)
            parser.add_argument("--pipeline", choices=sorted(PIPELINES), default="training")
            parser.add_argument("--no-cache", action="store_true", help="run every step again")
            parser.add_argument("--verbose", action="store_true")
            return parser.parse_args()


        def main() -> None:
            args = parse_args()
            logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
            if args.pipeline == "training":
                training_pipeline.with_options(config_path="configs/training.yaml",
                                               enable_cache=not args.no_cache)()
            else:
                feature_backfill.with_options(enable_cache=False)()


        if __name__ == "__main__":
            main()
        '''), stats)
    (package / "configs").mkdir(parents=True, exist_ok=True)
    (package / "configs" / "training.yaml").write_text(_code(f'''
        enable_cache: true
        settings:
          docker:
            parent_image: python:3.11-slim
        steps:
          train_model:
            parameters:
              n_estimators: {rng.choice((150, 300))}
          evaluate_model:
            enable_cache: false
        '''), encoding="utf-8")


# --------------------------------------------------------------------------- library code

_LIBRARY_AREAS = ("storage", "features", "serving", "monitoring", "auth", "scheduling", "reporting", "catalog")


def _write_library_module(platform: Path, number: int, rng: random.Random, stats: TreeStats) -> None:
    area = _LIBRARY_AREAS[number % len(_LIBRARY_AREAS)]
    init = platform / area / "__init__.py"
    if not init.exists():
        _write(init, f'"""Platform {area}."""\n', stats)
    module = f"{area}_{number:03d}"
    pieces = [_code(f'''
        """{area.capitalize()} utilities, part {number}."""
        from __future__ import annotations

        import dataclasses
        import datetime as dt
        import json
        from typing import Any, Iterable, Iterator, Optional

        DEFAULT_TIMEOUT = {rng.choice((5, 10, 30, 60))}
        RETRY_CODES = frozenset({{{", ".join(str(c) for c in rng.sample((408, 429, 500, 502, 503, 504), 3))}}})
        ''')]
    for index in range(rng.randint(8, 11)):
        kind = rng.random()
        if kind < 0.45:
            pieces.append(_library_class(area, index, rng))
        else:
            pieces.append(_library_function(area, index, rng))
    text = "\n\n".join(pieces)
    path = platform / area / f"{module}.py"
    _write(path, text, stats)


def _library_class(area: str, index: int, rng: random.Random) -> str:
    fields = rng.sample(("name", "owner", "created", "size", "tags", "region", "version", "status"), 3)
    return _code(f'''
        @dataclasses.dataclass
        class {area.capitalize()}Record{index}:
            """A row of the {area} catalog."""

            {fields[0]}: str
            {fields[1]}: Optional[str] = None
            {fields[2]}: Any = None

            def to_json(self) -> str:
                return json.dumps(dataclasses.asdict(self), default=str, sort_keys=True)

            @classmethod
            def from_json(cls, text: str) -> "{area.capitalize()}Record{index}":
                data = json.loads(text)
                return cls(**{{key: data.get(key) for key in ("{fields[0]}", "{fields[1]}", "{fields[2]}")}})

            def is_stale(self, now: Optional[dt.datetime] = None, days: int = {rng.randint(7, 90)}) -> bool:
                now = now or dt.datetime.now(dt.timezone.utc)
                created = getattr(self, "created", None)
                if not isinstance(created, dt.datetime):
                    return False
                return (now - created).days > days
        ''')


def _library_function(area: str, index: int, rng: random.Random) -> str:
    size = rng.choice((50, 100, 500, 1000))
    return _code(f'''
        def batched_{area}_{index}(items: Iterable[Any], size: int = {size}) -> Iterator[list[Any]]:
            """Yield lists of at most ``size`` items."""
            batch: list[Any] = []
            for item in items:
                batch.append(item)
                if len(batch) >= size:
                    yield batch
                    batch = []
            if batch:
                yield batch


        def summarize_{area}_{index}(rows: Iterable[dict[str, Any]], key: str = "status") -> dict[str, int]:
            counts: dict[str, int] = {{}}
            for row in rows:
                value = str(row.get(key, "unknown"))
                counts[value] = counts.get(value, 0) + 1
            return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


        def retry_delay_{index}(attempt: int, status: int, base: float = {rng.choice((0.5, 1.0, 2.0))}) -> Optional[float]:
            if status not in RETRY_CODES or attempt > 5:
                return None
            return min(DEFAULT_TIMEOUT, base * (2 ** attempt))
        ''')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the tree into")
    parser.add_argument("--files", type=int, default=DEFAULT_FILES, help="about this many .py files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    stats = generate(args.out, args.files, args.seed)
    print(f"{stats.files} .py files, {stats.lines} lines, {stats.packages} pipeline packages, "
          f"{stats.library_files} library modules in {args.out}")


if __name__ == "__main__":
    main()
