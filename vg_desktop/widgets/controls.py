"""The control panel: every setting of an experiment, each with a tooltip that says what it
teaches, plus the run buttons. It knows nothing of the worker: it emits a validated
:class:`ExperimentConfig` and the window decides what to do with it.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..engine import (
    ACTIVATION_FUNCTIONS,
    BATCH_RANGE,
    DATASETS,
    DEPTH_RANGE,
    DTYPES,
    GAIN_RANGE,
    INITS,
    LEARNING_RATE_RANGE,
    NORMALIZATIONS,
    RESIDUAL_FORMS,
    WIDTH_RANGE,
    ExperimentConfig,
    NetworkConfig,
    TrainConfig,
)
from ..engine.config import (
    BATCH_NORM_MIN_BATCH,
    CLIP_NORM_RANGE,
    CUSTOM_DATASET,
    IMAGE_DATASETS,
    MOMENTUM_RANGE,
    NOISE_RANGE,
    OPTIMIZERS,
    SEED_RANGE,
    WEIGHT_DECAY_RANGE,
)

NORMALIZATION_LABELS = {"none": "None", "batch": "Batch norm", "layer": "Layer norm"}
INIT_LABELS = {
    "normal": "Normal N(0, 1)",
    "small": "Small N(0, 0.01²)",
    "xavier": "Xavier / Glorot",
    "he": "He (Kaiming)",
}
OPTIMIZER_LABELS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}
RESIDUAL_FORM_LABELS = {
    "post-activation": "Post-activation",
    "pre-activation": "Pre-activation (He 2016)",
}
DATASET_LABELS = {
    "spiral": "Spiral",
    "circles": "Circles",
    "moons": "Moons",
    "xor": "XOR",
    "blobs": "Blobs",
    "sine": "Sine boundary",
    "checkerboard": "Checkerboard (4×4)",
    "digits": "Handwritten digits",
    "custom": "Your points",
}
# (label, steps per frame); None = as fast as the machine allows. Frames are 30 per second, so
# a speed is at most 30 × its steps per frame (a deep network on a slow machine trains slower).
SPEEDS = [
    ("Slow motion (1 step/frame)", 1),
    ("2 steps/frame", 2),
    ("Classroom (10 steps/frame)", 10),
    ("50 steps/frame", 50),
    ("Maximum", None),
]
# The default pace: at most 300 steps a second, slow enough to talk over (Maximum trains
# ~1,500 steps/s at depth 20: 7,000 steps pass in 5 s), fast enough that a cure shows in seconds.
DEFAULT_SPEED = 10
# Hidden in simple mode (the default): the settings a first lesson does not need. Lessons still
# set them; the switch "Show advanced controls" brings them back.
ADVANCED = (
    "Width",
    "Gain",
    "Precision",
    "Momentum",
    "Weight decay",
    "Clip gradient norm",
    "Batch size",
    "Noise",
    "Seed",
    "Stop after",
    "Stop at loss",
)

TOOLTIPS = {
    "Depth": "Number of hidden layers. On its way back the gradient is multiplied, layer by "
    "layer, by the activation's slope and the weights' gain. Sigmoid's slope is at most 0.25, so "
    "each sigmoid divides it by at least 4, and weights of gain about 1 (Xavier) do not make "
    "up for it: more "
    "layers make the gradient reaching the first layers exponentially smaller.",
    "Width": "Units per hidden layer. Outcomes depend on width too: with N(0, 1) weights, sigmoid "
    "vanishes at width 16 but explodes at width 256.",
    "Activation": "The nonlinearity after each layer. Sigmoid's derivative is at most 0.25; "
    "ReLU's is 1 on its active side, so it does not shrink the gradient there.",
    "Normalization": "Batch norm (Ioffe & Szegedy 2015) re-centers and re-scales each layer's "
    "pre-activations over the batch so they stay where the activation's derivative is not small. "
    "In a deep stack without residual connections it makes the gradient grow toward the input at "
    "initialization (Yang et al. 2019): about 130x from the last layer to the first in the "
    "20-layer sigmoid network the app opens with. Layer norm normalizes each sample on its own.",
    "Residual connections": "From layer 2 on, each layer adds its branch's output to its input "
    "(h = h_prev + branch): an identity path carries the gradient straight back to earlier "
    "layers (He et al. 2016, 'Identity Mappings').",
    "Residual form": "Which residual block (layers 2 and up). Post-activation: h + f(norm(hW+b)), "
    "the branch ends in the activation, so with sigmoid or ReLU it adds only non-negative values "
    "and h grows with depth. Pre-activation (He et al. 2016, 'Identity Mappings'): "
    "h + f(norm(h))W + b, the branch ends in a weight layer and can add either sign; He et al. "
    "found it trains better. Used only with residual connections on.",
    "Initialization": "How the initial weights are drawn. Xavier (Glorot & Bengio 2010) keeps "
    "the variance steady for activations with slope 1 at 0, such as tanh; not for sigmoid, whose "
    "slope is at most 0.25 (with Xavier it still loses about 4x per layer). He doubles the "
    "variance for ReLU, which zeroes about half its inputs. N(0, 1) ignores the layer size.",
    "Gain": "Multiplies the initial weights. Push it up to make the gradients explode, down to "
    "make them vanish faster.",
    "Learning rate": "Step size of gradient descent. Applies to the running network at once. "
    "With Adam or RMSprop it is roughly how far each weight moves per step, so smaller values "
    "(0.001 to 0.01) are usual. "
    "Too large and training diverges, and deeper networks often need smaller steps: ReLU + He "
    "on the spiral trains 20,000 steps at 0.1 with 20 layers, but with 30 layers it diverges at "
    "step 2,502 (at 0.05 it trains).",
    "Momentum": "Heavy-ball momentum (SGD only): each step adds a share of the previous step. "
    "Adam has its own (β₁ = 0.9); RMSprop runs without.",
    "Optimizer": "How a step turns the gradient into a weight change (as PyTorch's torch.optim). "
    "SGD moves each weight by the learning rate times its gradient, so a vanished gradient "
    "gives a vanished step. RMSprop and Adam (Kingma & Ba 2015) divide each weight's step by "
    "the root of its recent squared gradients plus ε = 1e-8: a gradient well above 1e-8 gets a "
    "step of about the learning rate however small it is (RMSprop, whose average starts at 0, "
    "about 10 times it on the first step), but one far below 1e-8 (layer 1 of a deep sigmoid "
    "stack) gets about learning rate × gradient / 1e-8 and barely moves. Adam rescales a "
    "vanished gradient; it does not bring it back. A change keeps the weights and starts the "
    "optimizer's memory afresh.",
    "Weight decay": "Coupled L2 (PyTorch's weight_decay): each step adds decay × weight to "
    "every parameter's gradient, pulling the weights toward 0. It brings no gradient back: in "
    "a layer whose gradient has vanished the decay is all that moves it (with SGD each step "
    "shrinks it by learning rate × decay).",
    "Clip gradient norm": "Before each step, a gradient (all parameters together) longer than "
    "this is scaled down to this length (PyTorch's clip_grad_norm_); off: never. The standard "
    "cure for exploding gradients (Pascanu et al. 2013): however large the gradient grows, the "
    "step stays bounded. It "
    "only ever shrinks a gradient, so it does nothing for a vanishing one.",
    "Batch size": "Samples per gradient step. Batch norm needs at least 3.",
    "Dataset": "The classification problem the network learns: a 2-D shape (the sine boundary "
    "splits by x₂ > sin(πx₁)), real 8×8 handwritten digits (UCI, 1,797 images, 64 inputs, 10 "
    "classes; a fifth held out to test), or your points (File › Import Points…, or Draw points "
    "on the data view).",
    "Noise": "How much the dataset's points are jittered (0 = clean shapes). The digits are "
    "real images and your points are as you gave them: no noise.",
    "Seed": "Random seed for the weights and the batch order: the same seed gives the same run.",
    "Precision": "float64 represents gradients down to about 2.2e-308. In float32 the engine "
    "flushes every gradient entry below 1.2e-38 (float32's smallest normal number; subnormals "
    "are not used) to zero, so a deep vanishing gradient becomes exactly 0 much sooner.",
    "Stop after": "Pause by itself after this many steps (0: never), so a class sees the same "
    "moment every time.",
    "Stop at loss": "Pause by itself once the training loss is at or below this value (0: never).",
    "Speed": "Steps trained per frame (30 frames per second). Slow motion lets a class follow "
    "each step; Classroom (at most 300 steps/s) is slow enough to talk over; Maximum trains as "
    "fast as the machine allows.",
    "Show advanced controls": "Simple mode shows the settings a lesson needs; advanced mode adds "
    "width, gain, precision, momentum, weight decay, gradient clipping, batch size, noise, seed, "
    "stop conditions and the update ratio. Lessons set every setting either way.",
}


def optimizer_change_message(optimizer: str) -> str:
    """What the status bar says when the optimizer changes on a running network."""
    return (
        f"Optimizer: {OPTIMIZER_LABELS[optimizer]}. Same network, same weights; the optimizer's "
        "memory (momentum, running averages) starts afresh at the next step."
    )


def _combo(label: str, items: dict[str, str]) -> QComboBox:
    box = QComboBox()
    for key, text in items.items():
        box.addItem(text, key)
    _name(box, label)
    return box


def _name(widget: QWidget, label: str) -> None:
    widget.setAccessibleName(label)
    widget.setObjectName(label.lower().replace(" ", "_"))
    if label in TOOLTIPS:
        widget.setToolTip(TOOLTIPS[label])


def _form_box(title: str, rows: list[tuple[str, QWidget]]) -> QGroupBox:
    """A titled group of labelled fields; each label is its field's buddy (Alt+key, screen
    readers)."""
    box = QGroupBox(title)
    box.setObjectName(title.lower())
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    for label, field in rows:
        if label:
            text = QLabel(label)
            text.setBuddy(field)
            form.addRow(text, field)
        else:
            form.addRow("", field)
    return box


class ControlPanel(QWidget):
    """Settings and run buttons. Emits ``configChanged`` with every valid change."""

    configChanged = Signal(object)  # ExperimentConfig
    speedChanged = Signal(object)  # int steps per frame, or None for maximum
    stopConditionsChanged = Signal(object, object)  # max steps or None, target loss or None
    playToggled = Signal()
    stepRequested = Signal()
    resetRequested = Signal()
    advancedToggled = Signal(bool)

    def __init__(self, config: ExperimentConfig | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._updating = False
        self._config = config or ExperimentConfig()
        self._build()
        self.set_config(self._config)

    # ---------------------------------------------------------------- arrangement
    def column_width(self) -> int:
        """Width of the panel with its groups stacked in one column (a side column's need)."""
        margins = self.layout().contentsMargins()
        boxes = max(box.sizeHint().width() for box in self._boxes)
        buttons = self.layout().itemAt(0).sizeHint().width()
        return max(boxes, buttons) + margins.left() + margins.right()

    def columns(self) -> int:
        return self._columns

    def set_columns(self, columns: int) -> None:
        """Put the Network, Training and Data groups in ``columns`` columns (1 to 3)."""
        columns = max(1, min(3, columns))
        if columns == self._columns:
            return
        self._columns = columns
        for box in self._boxes:
            self._grid.removeWidget(box)
        for i, box in enumerate(self._boxes):
            row, col = divmod(i, columns)
            self._grid.addWidget(box, row, col, Qt.AlignmentFlag.AlignTop)
        for col in range(3):
            self._grid.setColumnStretch(col, 1 if col < columns else 0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        margins = self.layout().contentsMargins()
        room = self.width() - margins.left() - margins.right()
        box = max(b.sizeHint().width() for b in self._boxes)
        spacing = self._grid.horizontalSpacing()
        fit = max(1, (room + spacing) // (box + spacing))
        self.set_columns(fit if fit < 3 else 3)

    # ---------------------------------------------------------------- construction
    def _build(self) -> None:
        self.depth_box = QSpinBox()
        self.depth_box.setRange(*DEPTH_RANGE)
        self.width_box = QSpinBox()
        self.width_box.setRange(*WIDTH_RANGE)
        self.activation = _combo(
            "Activation", {k: a.label for k, a in ACTIVATION_FUNCTIONS.items()}
        )
        self.normalization = _combo(
            "Normalization", {k: NORMALIZATION_LABELS[k] for k in NORMALIZATIONS}
        )
        self.residual = QCheckBox("Residual connections")
        self.residual_form = _combo(
            "Residual form", {k: RESIDUAL_FORM_LABELS[k] for k in RESIDUAL_FORMS}
        )
        self.residual_form.setEnabled(False)  # only with residual connections on
        self.init = _combo("Initialization", {k: INIT_LABELS[k] for k in INITS})
        self.gain = QDoubleSpinBox()
        self.gain.setRange(*GAIN_RANGE)
        self.gain.setDecimals(2)
        self.gain.setSingleStep(0.1)
        self.precision = _combo("Precision", {k: k for k in DTYPES})
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setRange(*LEARNING_RATE_RANGE)
        self.learning_rate.setDecimals(5)
        self.learning_rate.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.momentum = QDoubleSpinBox()
        self.momentum.setRange(*MOMENTUM_RANGE)
        self.momentum.setDecimals(2)
        self.momentum.setSingleStep(0.05)
        self.optimizer = _combo("Optimizer", {k: OPTIMIZER_LABELS[k] for k in OPTIMIZERS})
        self.weight_decay = QDoubleSpinBox()
        self.weight_decay.setRange(*WEIGHT_DECAY_RANGE)
        self.weight_decay.setDecimals(5)
        self.weight_decay.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.weight_decay.setSpecialValueText("off")
        self.clip_norm = QDoubleSpinBox()
        self.clip_norm.setRange(0.0, CLIP_NORM_RANGE[1])  # 0: off
        self.clip_norm.setDecimals(3)
        self.clip_norm.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.clip_norm.setSpecialValueText("off")
        self.batch_size = QSpinBox()
        self.batch_size.setRange(*BATCH_RANGE)
        self.dataset = _combo("Dataset", {k: DATASET_LABELS[k] for k in DATASETS})
        self.noise = QDoubleSpinBox()
        self.noise.setRange(*NOISE_RANGE)
        self.noise.setDecimals(2)
        self.noise.setSingleStep(0.05)
        self.seed = QSpinBox()
        self.seed.setRange(*SEED_RANGE)
        self.speed = QComboBox()
        for text, value in SPEEDS:
            self.speed.addItem(text, value)
        self.speed.setCurrentIndex(self.speed.findData(DEFAULT_SPEED))
        self.stop_after = QSpinBox()
        self.stop_after.setRange(0, 10_000_000)
        self.stop_after.setSingleStep(100)
        self.stop_after.setSpecialValueText("never")
        self.stop_after.setSuffix(" steps")
        self.stop_at_loss = QDoubleSpinBox()
        self.stop_at_loss.setRange(0.0, 10.0)
        self.stop_at_loss.setDecimals(3)
        self.stop_at_loss.setSingleStep(0.05)
        self.stop_at_loss.setSpecialValueText("never")

        for widget, label in [
            (self.depth_box, "Depth"),
            (self.width_box, "Width"),
            (self.residual, "Residual connections"),
            (self.gain, "Gain"),
            (self.learning_rate, "Learning rate"),
            (self.momentum, "Momentum"),
            (self.weight_decay, "Weight decay"),
            (self.clip_norm, "Clip gradient norm"),
            (self.batch_size, "Batch size"),
            (self.noise, "Noise"),
            (self.seed, "Seed"),
            (self.speed, "Speed"),
            (self.stop_after, "Stop after"),
            (self.stop_at_loss, "Stop at loss"),
        ]:
            _name(widget, label)
        for spin in (
            self.depth_box,
            self.width_box,
            self.gain,
            self.learning_rate,
            self.momentum,
            self.weight_decay,
            self.clip_norm,
            self.batch_size,
            self.noise,
            self.seed,
            self.stop_after,
            self.stop_at_loss,
        ):
            spin.setKeyboardTracking(False)  # apply when typing is done, not at every digit

        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setObjectName("hint")
        self.hint.setAccessibleName("Hint")

        self.play_button = QPushButton("Play")
        self.step_button = QPushButton("Step")
        self.reset_button = QPushButton("Reset")
        _name(self.play_button, "Play")
        self.play_button.setToolTip("Start or pause training (Space)")
        _name(self.step_button, "Step")
        self.step_button.setToolTip("Train exactly one step and show it (S)")
        _name(self.reset_button, "Reset")
        self.reset_button.setToolTip("Rebuild the network from its seed: back to step 0 (R)")
        self.play_button.setCheckable(True)
        self.advanced = QCheckBox("Show advanced controls")
        _name(self.advanced, "Show advanced controls")

        network_box = _form_box(
            "Network",
            [
                ("Depth", self.depth_box),
                ("Width", self.width_box),
                ("Activation", self.activation),
                ("Normalization", self.normalization),
                ("", self.residual),
                ("Residual form", self.residual_form),
                ("Initialization", self.init),
                ("Gain", self.gain),
                ("Precision", self.precision),
            ],
        )
        train_box = _form_box(
            "Training",
            [
                ("Optimizer", self.optimizer),
                ("Learning rate", self.learning_rate),
                ("Momentum", self.momentum),
                ("Weight decay", self.weight_decay),
                ("Clip gradient norm", self.clip_norm),
                ("Batch size", self.batch_size),
                ("Speed", self.speed),
                ("Stop after", self.stop_after),
                ("Stop at loss", self.stop_at_loss),
            ],
        )
        data_box = _form_box(
            "Data",
            [
                ("Dataset", self.dataset),
                ("Noise", self.noise),
                ("Seed", self.seed),
            ],
        )

        buttons = QHBoxLayout()
        for b in (self.play_button, self.step_button, self.reset_button):
            b.setMinimumHeight(32)
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        # The groups stack in a side column; in a wide bottom tab they stand side by side
        # (one stretched column put 1,500-pixel spin boxes under the bars).
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(12)
        self._columns = 0
        layout.addLayout(self._grid)
        layout.addWidget(self.advanced)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self._boxes = (network_box, train_box, data_box)
        self.set_columns(1)
        self._advanced_fields = {
            label: self.findChild(QWidget, label.lower().replace(" ", "_")) for label in ADVANCED
        }
        self.advanced.toggled.connect(self._show_advanced)
        self._show_advanced(False)

        for spin in (self.depth_box, self.width_box, self.batch_size, self.seed):
            spin.valueChanged.connect(self._changed)
        for spin in (
            self.gain,
            self.learning_rate,
            self.momentum,
            self.weight_decay,
            self.clip_norm,
            self.noise,
        ):
            spin.valueChanged.connect(self._changed)
        for box in (
            self.activation,
            self.normalization,
            self.residual_form,
            self.init,
            self.precision,
            self.dataset,
            self.optimizer,
        ):
            box.currentIndexChanged.connect(self._changed)
        self.residual.toggled.connect(self.residual_form.setEnabled)
        self.residual.toggled.connect(self._changed)
        self.speed.currentIndexChanged.connect(
            lambda: self.speedChanged.emit(self.speed.currentData())
        )
        self.stop_after.valueChanged.connect(self._stop_conditions_changed)
        self.stop_at_loss.valueChanged.connect(self._stop_conditions_changed)
        self.play_button.clicked.connect(self.playToggled)
        self.step_button.clicked.connect(self.stepRequested)
        self.reset_button.clicked.connect(self.resetRequested)

    # ---------------------------------------------------------------- simple / advanced
    def set_advanced(self, on: bool) -> None:
        """Show (True) or hide the advanced settings; ``advancedToggled`` follows."""
        self.advanced.setChecked(on)

    def is_advanced(self) -> bool:
        return self.advanced.isChecked()

    def _show_advanced(self, on: bool) -> None:
        self._update_rows()
        self.advancedToggled.emit(on)

    def _update_rows(self) -> None:
        """Advanced rows show in advanced mode, and in simple mode too when a lesson or a file
        set them away from their defaults (a step that doubles the gain shows the gain)."""
        on = self.advanced.isChecked()
        changed = self._changed_advanced()
        for label, field in self._advanced_fields.items():
            for box in self._boxes:
                form = box.layout()
                if form.indexOf(field) >= 0:
                    form.setRowVisible(field, on or label in changed)

    def _changed_advanced(self) -> set[str]:
        n, t, d = self._config.network, self._config.train, self._config.data
        default = ExperimentConfig()
        dn, dt, dd = default.network, default.train, default.data
        pairs = {
            "Width": (n.width, dn.width),
            "Gain": (n.init_gain, dn.init_gain),
            "Precision": (n.dtype, dn.dtype),
            "Momentum": (t.momentum, dt.momentum),
            "Weight decay": (t.weight_decay, dt.weight_decay),
            "Clip gradient norm": (t.clip_norm, dt.clip_norm),
            "Batch size": (t.batch_size, dt.batch_size),
            "Noise": (d.noise, dd.noise),
            "Seed": (n.seed, dn.seed),
        }
        return {label for label, (value, default_value) in pairs.items() if value != default_value}

    def visible_settings(self) -> list[str]:
        """Accessible names of the settings on screen in this mode (for tests and the README)."""
        return [
            w.accessibleName()
            for box in self._boxes
            for w in box.findChildren(QWidget)
            if w.accessibleName() and not isinstance(w, QLabel) and w.isVisibleTo(self)
        ]

    # ---------------------------------------------------------------- state
    def stop_conditions(self) -> tuple[int | None, float | None]:
        steps, loss = self.stop_after.value(), self.stop_at_loss.value()
        return (steps or None), (loss or None)

    def _stop_conditions_changed(self) -> None:
        self.stopConditionsChanged.emit(*self.stop_conditions())

    def config(self) -> ExperimentConfig:
        return self._config

    def set_config(self, config: ExperimentConfig) -> None:
        """Show ``config`` in the widgets without emitting ``configChanged``."""
        self._updating = True
        try:
            n, d, t = config.network, config.data, config.train
            self.depth_box.setValue(n.depth)
            self.width_box.setValue(n.width)
            self.activation.setCurrentIndex(self.activation.findData(n.activation))
            self.normalization.setCurrentIndex(self.normalization.findData(n.normalization))
            self.residual.setChecked(n.residual)
            self.residual_form.setCurrentIndex(self.residual_form.findData(n.residual_form))
            self.residual_form.setEnabled(n.residual)
            self.init.setCurrentIndex(self.init.findData(n.init))
            self.gain.setValue(n.init_gain)
            self.precision.setCurrentIndex(self.precision.findData(n.dtype))
            self.seed.setValue(n.seed)
            self.learning_rate.setValue(t.learning_rate)
            self.momentum.setValue(t.momentum)
            self.optimizer.setCurrentIndex(self.optimizer.findData(t.optimizer))
            self.momentum.setEnabled(t.optimizer == "sgd")
            self.weight_decay.setValue(t.weight_decay)
            self.clip_norm.setValue(t.clip_norm or 0.0)
            self._apply_batch_limits(n.normalization, d.n_train)
            self.batch_size.setValue(t.batch_size)
            self.dataset.setCurrentIndex(self.dataset.findData(d.name))
            self.noise.setValue(d.noise)
            self.noise.setEnabled(d.name not in IMAGE_DATASETS and d.name != CUSTOM_DATASET)
            if d.name == CUSTOM_DATASET:
                self._custom_data = d  # switching away and back brings these points back
            self._config = config
        finally:
            self._updating = False
        if hasattr(self, "_advanced_fields"):
            self._update_rows()

    def set_playing(self, playing: bool) -> None:
        self.play_button.setChecked(playing)
        self.play_button.setText("Pause" if playing else "Play")

    def _apply_batch_limits(self, normalization: str, n_train: int) -> None:
        # Batch norm with one sample has zero variance: prevent it rather than fail.
        low = BATCH_NORM_MIN_BATCH if normalization == "batch" else BATCH_RANGE[0]
        self.batch_size.setRange(low, min(BATCH_RANGE[1], n_train))
        if normalization == "batch":
            self.batch_size.setToolTip(
                TOOLTIPS["Batch size"] + f" (minimum {BATCH_NORM_MIN_BATCH} with batch norm: "
                "one sample has no batch variance, and two normalize every value to ±1)"
            )
        else:
            self.batch_size.setToolTip(TOOLTIPS["Batch size"])

    def _read(self) -> ExperimentConfig:
        network = NetworkConfig(
            depth=self.depth_box.value(),
            width=self.width_box.value(),
            activation=self.activation.currentData(),
            normalization=self.normalization.currentData(),
            residual=self.residual.isChecked(),
            residual_form=self.residual_form.currentData(),
            init=self.init.currentData(),
            init_gain=round(self.gain.value(), 2),
            dtype=self.precision.currentData(),
            seed=self.seed.value(),
        )
        name = self.dataset.currentData()
        if name == CUSTOM_DATASET and self._config.data.name != CUSTOM_DATASET:
            if getattr(self, "_custom_data", None) is None:
                raise ValueError(
                    "there are no points of yours yet: File › Import Points…, or draw them on "
                    "the data view"
                )
            data = replace(self._custom_data, seed=self.seed.value())
        else:
            data = self._config.data.with_dataset(name)
        if data.name in IMAGE_DATASETS or data.name == CUSTOM_DATASET:
            data = replace(data, seed=self.seed.value())
        else:
            data = replace(data, noise=round(self.noise.value(), 2), seed=self.seed.value())
        train = TrainConfig(
            learning_rate=self.learning_rate.value(),
            momentum=round(self.momentum.value(), 2),
            batch_size=self.batch_size.value(),
            optimizer=self.optimizer.currentData(),
            weight_decay=round(self.weight_decay.value(), 5),
            clip_norm=round(self.clip_norm.value(), 3) or None,
        )
        return ExperimentConfig(network=network, data=data, train=train)

    def _changed(self) -> None:
        if self._updating:
            return
        low = BATCH_NORM_MIN_BATCH
        if self.normalization.currentData() == "batch" and self.batch_size.value() < low:
            self._updating = True
            self.batch_size.setValue(low)
            self._updating = False
            self.hint.setText(
                f"Batch size raised to {low}: batch normalization needs at least {low} samples "
                "per batch (one sample has no batch variance, and with two every normalized "
                "value is ±1)."
            )
        else:
            self.hint.setText("")
        self._apply_batch_limits(self.normalization.currentData(), self._config.data.n_train)
        try:
            config = self._read()
        except ValueError as exc:  # "Your points" before there are any; never crash
            self.hint.setText(f"Not applied: {exc}")
            self.set_config(self._config)
            return
        if config != self._config:
            self._config = config
            self.set_config(config)  # the noise a dataset switch set, and what it allows
            self.configChanged.emit(config)
