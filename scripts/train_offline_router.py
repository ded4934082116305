"""Train the offline router and write ``crossroads/data/router_weights.npz``.

Fits scikit-learn's TF-IDF + logistic regression on the ``train`` rows of
``crossroads/data/router_examples.jsonl``, exports the weights as plain arrays (no pickle),
and chooses the confidence threshold on the ``validation`` rows (never the ``heldout``
ones). Prints the threshold: copy it into ``DEFAULT_CONFIDENCE_THRESHOLD`` in
``tools/offline_router.py`` (a test checks that they agree, and that the weights were
trained on the current rows).

    .venv/bin/python scripts/make_router_examples.py   # rows (needs ../shared/data)
    .venv/bin/python scripts/train_offline_router.py   # weights
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import sklearn

from crossroads.tools.offline_router import (
    OfflineRouter,
    train_examples,
    validation_examples,
)
from crossroads.tools.router_training import (
    choose_threshold,
    class_precision,
    export_arrays,
    fit_pipeline,
)

OUTPUT = Path(__file__).resolve().parent.parent / "crossroads" / "data" / "router_weights.npz"


def main() -> None:
    """Fit, choose the threshold on validation rows, write the weights and print figures."""
    train = train_examples()
    pipeline = fit_pipeline(train)
    router = OfflineRouter.from_arrays(export_arrays(pipeline, train, 0.0))
    validation = validation_examples()
    guesses = list(zip(validation, router.predict_many([e.text for e in validation]), strict=True))
    threshold = choose_threshold(guesses)
    if not np.isfinite(threshold):
        sys.exit("No threshold reaches the precision target on the validation rows.")
    accepted = [(e, g) for e, g in guesses if g.confidence >= threshold]
    arrays = export_arrays(
        pipeline,
        train,
        threshold,
        scikit_learn=sklearn.__version__,
        validation_rows=len(validation),
        validation_coverage=round(len(accepted) / len(validation), 4),
    )
    np.savez_compressed(OUTPUT, **arrays)
    print(f"train rows {len(train)}, features {arrays['coef'].shape[1]}")
    print(f"threshold {threshold} (validation coverage {len(accepted) / len(validation):.3f})")
    print(f"validation precision per route {class_precision(guesses, threshold)}")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
