"""A training run: a network, its dataset and a seeded minibatch stream, stepped one optimizer
step at a time. The GUI worker and the headless CLI both drive this class, so they compute the same
numbers for the same experiment.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .config import ExperimentConfig, TrainConfig
from .datasets import dataset_from_config, split_train_test
from .network import LeanStep, Network
from .stats import StepStats


class TrainingRun:
    """Owns a :class:`Network` and the data it learns; deterministic for a given config.

    Minibatches are drawn by shuffling the dataset once per epoch with a generator seeded from the
    network seed, so the same experiment always sees the same batches in the same order.
    """

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        # x, y: what the network trains on; x_test, y_test: held out (empty for 2-D datasets,
        # which are shown whole in the decision view).
        self.x, self.y, self.x_test, self.y_test = split_train_test(
            *dataset_from_config(config.data), config.data.n_test, config.data.seed
        )
        self.network = Network(
            config.network, n_inputs=self.x.shape[1], n_classes=config.data.n_classes
        )
        self._rng = np.random.default_rng([config.network.seed, 1])
        self._order = np.empty(0, dtype=np.intp)
        self._cursor = 0
        self.step_count = 0

    def set_train(self, train: TrainConfig) -> None:
        """Change the training settings without rebuilding the network (a new optimizer starts
        with fresh state at the next step)."""
        self.config = replace(self.config, train=train)  # validates the combination

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        size = self.config.train.batch_size
        if self._cursor + size > len(self._order):
            self._order = self._rng.permutation(len(self.x))
            self._cursor = 0
        idx = self._order[self._cursor : self._cursor + size]
        self._cursor += size
        return self.x[idx], self.y[idx]

    def step(self, preactivation_rows: int | None = None) -> StepStats:
        """One optimizer step on the next minibatch (``preactivation_rows``: see
        :meth:`Network.train_step`)."""
        x, y = self.next_batch()
        train = self.config.train
        stats = self.network.train_step(
            x,
            y,
            train.learning_rate,
            preactivation_rows=preactivation_rows,
            **train.optimizer_arguments(),
        )
        self.step_count += 1
        return stats

    def step_lean(self) -> LeanStep:
        """The same step as :meth:`step` without the per-layer statistics."""
        x, y = self.next_batch()
        train = self.config.train
        result = self.network.train_step_lean(
            x, y, train.learning_rate, **train.optimizer_arguments()
        )
        self.step_count += 1
        return result

    def probe(self, preactivation_rows: int | None = None) -> StepStats:
        """Statistics of the current parameters on a fixed batch (the first ``batch_size``
        samples), without training and without advancing the minibatch stream: showing a
        network never changes the batches it later trains on."""
        train = self.config.train
        size = train.batch_size
        return self.network.gradients(
            self.x[:size],
            self.y[:size],
            train.learning_rate,
            preactivation_rows=preactivation_rows,
            **train.optimizer_arguments(),
        )

    def test_accuracy(self) -> float:
        """Accuracy on the held-out test split in evaluation mode (NaN when there is none)."""
        if not len(self.y_test):
            return float("nan")
        return self.network.evaluate(self.x_test, self.y_test)[1]
