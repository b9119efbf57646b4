"""Validated, immutable settings for a network, its data and its training.

Every allowed value and range lives here, once: the engine, the CLI, the GUI controls and the
experiment files all read them from this module, so a value the GUI offers is a value the engine
accepts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "linear")
NORMALIZATIONS = ("none", "batch", "layer")
INITS = ("normal", "small", "xavier", "he")
DTYPES = ("float64", "float32")
DATASETS = (
    "spiral",
    "circles",
    "moons",
    "xor",
    "blobs",
    "sine",
    "checkerboard",
    "digits",
    "custom",
)
# Real images rather than generated points: their size and class count are fixed by the data.
IMAGE_DATASETS = ("digits",)
# A teacher's own 2-D points (imported from CSV or drawn), held in the config itself.
CUSTOM_DATASET = "custom"
POINT_DATASETS = tuple(  # 2-D, generated from a seed
    name for name in DATASETS if name not in IMAGE_DATASETS and name != CUSTOM_DATASET
)
CUSTOM_SAMPLES_RANGE = (4, 100_000)
MAX_CLASS_NAME_CHARS = 24
DIGITS_SAMPLES = 1797  # the UCI handwritten digits as shipped (resources/datasets)
DIGITS_CLASSES = 10
DIGITS_PIXELS = 64  # 8 x 8
DIGITS_SAMPLES_RANGE = (100, DIGITS_SAMPLES)  # at least 10 images of each digit
TEST_SHARE_DIVISOR = 5  # image datasets hold out n // 5 samples (20 %) as a test split
# The residual block for hidden layers 2..depth (see vg_desktop/engine/network.py):
# post-activation h = h_prev + f(norm(h_prev W + b)); pre-activation (He et al. 2016, "Identity
# Mappings in Deep Residual Networks") h = h_prev + f(norm(h_prev)) W + b.
RESIDUAL_FORMS = ("post-activation", "pre-activation")
# The update rules, exactly as torch.optim's SGD, RMSprop and Adam (see engine/optimizers.py).
OPTIMIZERS = ("sgd", "rmsprop", "adam")

DEPTH_RANGE = (1, 200)
WIDTH_RANGE = (2, 256)
GAIN_RANGE = (0.01, 20.0)
SEED_RANGE = (0, 2**31 - 1)
BATCH_RANGE = (1, 512)
SAMPLES_RANGE = (16, 4096)
NOISE_RANGE = (0.0, 1.0)
LEARNING_RATE_RANGE = (1e-5, 10.0)
MOMENTUM_RANGE = (0.0, 0.99)
WEIGHT_DECAY_RANGE = (0.0, 1.0)  # coupled L2: g + λ·θ
CLIP_NORM_RANGE = (0.001, 1000.0)  # the largest total gradient norm a step may apply
CLASSES_RANGE = (2, 8)
# Batch norm over one sample divides by a zero variance, and over two every normalized value is
# ±1 (x̂ = ±(z₁ − z₂) / |z₁ − z₂|, up to eps) whatever the input: degenerate, so refused.
BATCH_NORM_MIN_BATCH = 3


def _shown(value: object, limit: int = 40) -> str:
    """``repr(value)``, shortened: an error message must not echo a 10,000-character value."""
    try:
        text = repr(value)
    except ValueError:  # an integer with more digits than Python will print
        return "a number far too large"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {_shown(value)}")


def _check_int(name: str, value: object, bounds: tuple[int, int]) -> None:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer from {lo} to {hi}; got {_shown(value)}")


def _check_float(name: str, value: object, bounds: tuple[float, float]) -> None:
    lo, hi = bounds
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    try:
        number = float(value) if ok else float("nan")
    except OverflowError:  # an integer too large for a float: do not echo its digits
        raise ValueError(
            f"{name} must be a number from {lo:g} to {hi:g}; got a number far too large"
        ) from None
    # `not lo <= v <= hi` is also true for NaN, which must be refused too.
    if not lo <= number <= hi:
        raise ValueError(f"{name} must be a number from {lo:g} to {hi:g}; got {_shown(value)}")


@dataclass(frozen=True)
class NetworkConfig:
    """The architecture and its initialization; changing any field means a new network.

    ``depth`` counts hidden layers. Hidden layer 1 maps the inputs to ``width`` units, layers
    2..depth map width -> width, and a linear output layer maps width -> classes.
    ``residual_form`` chooses the residual block (used only when ``residual`` is on).
    """

    depth: int = 20
    width: int = 32
    activation: str = "sigmoid"
    normalization: str = "none"
    residual: bool = False
    init: str = "xavier"
    init_gain: float = 1.0
    dtype: str = "float64"
    seed: int = 0
    residual_form: str = "post-activation"

    def __post_init__(self) -> None:
        _check_int("depth", self.depth, DEPTH_RANGE)
        _check_int("width", self.width, WIDTH_RANGE)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("normalization", self.normalization, NORMALIZATIONS)
        if not isinstance(self.residual, bool):
            raise ValueError(f"residual must be true or false; got {_shown(self.residual)}")
        _check_choice("init", self.init, INITS)
        _check_float("init_gain", self.init_gain, GAIN_RANGE)
        _check_choice("dtype", self.dtype, DTYPES)
        _check_int("seed", self.seed, SEED_RANGE)
        _check_choice("residual_form", self.residual_form, RESIDUAL_FORMS)

    @property
    def pre_activation(self) -> bool:
        """Residual connections in He et al.'s pre-activation form."""
        return self.residual and self.residual_form == "pre-activation"


class CustomPoints:
    """A teacher's own labelled 2-D points, immutable: ``x`` float64 (n, 2), ``y`` int64 (n,) in
    [0, C), and the C class names (shown in the legend, written back on export).

    Arrays rather than tuples, so that a config holding 100,000 points pickles to the training
    process as two buffers; equality and hashing compare the exact bytes.
    """

    __slots__ = ("_key", "class_names", "x", "y")

    def __init__(self, x, y, class_names) -> None:
        names = tuple(class_names) if isinstance(class_names, (tuple, list)) else None
        lo, hi = CLASSES_RANGE
        if names is None or not lo <= len(names) <= hi:
            raise ValueError(f"custom points need {lo} to {hi} class names")
        for name in names:
            if (
                not isinstance(name, str)
                or not 1 <= len(name) <= MAX_CLASS_NAME_CHARS
                or not name.isprintable()
                or name != name.strip()
            ):
                raise ValueError(
                    f"class name {_shown(name)} must be 1 to {MAX_CLASS_NAME_CHARS} printable "
                    "characters"
                )
        if len(set(names)) != len(names):
            raise ValueError("class names must differ from each other")
        try:
            xs = np.array(x, dtype=np.float64)
            ys = np.array(y)
        except (TypeError, ValueError, OverflowError):
            raise ValueError("custom points must be numbers") from None
        n_lo, n_hi = CUSTOM_SAMPLES_RANGE
        if xs.ndim != 2 or xs.shape[1] != 2 or not n_lo <= xs.shape[0] <= n_hi:
            raise ValueError(f"custom points must be {n_lo:,} to {n_hi:,} (x1, x2) pairs")
        if not np.isfinite(xs).all():
            raise ValueError("custom points must be finite numbers")
        if ys.shape != (xs.shape[0],) or ys.dtype.kind not in "iu":
            raise ValueError("custom labels must be one whole number per point")
        if ys.size and (ys.min() < 0 or ys.max() >= len(names)):
            raise ValueError(f"custom labels must be from 0 to {len(names) - 1}")
        xs.flags.writeable = False
        ys = ys.astype(np.int64)
        ys.flags.writeable = False
        object.__setattr__(self, "x", xs)
        object.__setattr__(self, "y", ys)
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "_key", (xs.tobytes(), ys.tobytes(), names))

    def __setattr__(self, name, value):
        raise AttributeError("CustomPoints are immutable")

    def __len__(self) -> int:
        return len(self.y)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CustomPoints) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"CustomPoints(n={len(self)}, class_names={self.class_names!r})"

    def __reduce__(self):
        return (CustomPoints, (self.x, self.y, self.class_names))

    def __deepcopy__(self, memo) -> CustomPoints:
        return self  # immutable

    def rows(self) -> list[list]:
        """``[[x1, x2, label], ...]`` with exact floats (for JSON)."""
        return [[a, b, k] for (a, b), k in zip(self.x.tolist(), self.y.tolist(), strict=True)]


@dataclass(frozen=True)
class DataConfig:
    """A built-in dataset: a 2-D one regenerated identically from its seed, or the shipped
    handwritten digits (a seeded subset when ``n_samples`` is below 1,797).

    For the digits, ``n_classes`` is 10 and ``noise`` 0 (they are real images), and n // 5 of
    the samples are held out as a test split (:attr:`n_test`). The ``"custom"`` dataset is a
    teacher's own points (:class:`CustomPoints`, in ``points``): ``n_samples`` and
    ``n_classes`` are theirs and ``noise`` is 0; build it with :meth:`custom`.
    """

    name: str = "spiral"
    n_samples: int = 512
    noise: float = 0.1
    n_classes: int = 2
    seed: int = 0
    points: CustomPoints | None = None

    @classmethod
    def custom(cls, points: CustomPoints, seed: int = 0) -> DataConfig:
        return cls(CUSTOM_DATASET, len(points), 0.0, len(points.class_names), seed, points)

    def __post_init__(self) -> None:
        _check_choice("dataset", self.name, DATASETS)
        if self.name == CUSTOM_DATASET:
            if not isinstance(self.points, CustomPoints):
                raise ValueError("the custom dataset needs its points")
            if self.n_samples != len(self.points) or isinstance(self.n_samples, bool):
                raise ValueError(
                    f"n_samples must be the number of custom points ({len(self.points)}); got "
                    f"{_shown(self.n_samples)}"
                )
            if self.n_classes != len(self.points.class_names) or isinstance(self.n_classes, bool):
                raise ValueError(
                    f"n_classes must be the number of custom classes "
                    f"({len(self.points.class_names)}); got {_shown(self.n_classes)}"
                )
            if isinstance(self.noise, bool) or self.noise != 0:
                raise ValueError(f"noise must be 0 for custom points; got {_shown(self.noise)}")
        elif self.points is not None:
            raise ValueError(f"the {self.name} dataset holds no custom points")
        if self.name == CUSTOM_DATASET:
            pass
        elif self.name == "digits":
            _check_int("n_samples", self.n_samples, DIGITS_SAMPLES_RANGE)
            if isinstance(self.noise, bool) or self.noise != 0:
                raise ValueError(
                    f"noise must be 0 for the digits (real images); got {_shown(self.noise)}"
                )
            if isinstance(self.n_classes, bool) or self.n_classes != DIGITS_CLASSES:
                raise ValueError(
                    f"n_classes must be {DIGITS_CLASSES} for the digits; got "
                    f"{_shown(self.n_classes)}"
                )
        else:
            _check_int("n_samples", self.n_samples, SAMPLES_RANGE)
            _check_float("noise", self.noise, NOISE_RANGE)
            _check_int("n_classes", self.n_classes, CLASSES_RANGE)
        _check_int("data seed", self.seed, SEED_RANGE)

    @property
    def n_inputs(self) -> int:
        """Input features: 64 pixels for the digits, 2 coordinates otherwise."""
        return DIGITS_PIXELS if self.name == "digits" else 2

    @property
    def n_test(self) -> int:
        """Samples held out for testing (never trained on): n // 5 for image datasets, else 0."""
        return self.n_samples // TEST_SHARE_DIVISOR if self.name in IMAGE_DATASETS else 0

    @property
    def n_train(self) -> int:
        return self.n_samples - self.n_test

    def with_dataset(self, name: str) -> DataConfig:
        """This config switched to dataset ``name``: the digits take all 1,797 images, 10
        classes and no noise; leaving them restores the 2-D defaults (the seed is kept)."""
        if name == self.name:
            return self
        if name == CUSTOM_DATASET:
            raise ValueError("custom points are imported or drawn: use DataConfig.custom")
        if self.name == CUSTOM_DATASET:
            default = DataConfig()
            return DataConfig(name, default.n_samples, default.noise, default.n_classes, self.seed)
        if name == "digits":
            return DataConfig(name, DIGITS_SAMPLES, 0.0, DIGITS_CLASSES, self.seed)
        if self.name == "digits":
            default = DataConfig()
            return DataConfig(name, default.n_samples, default.noise, default.n_classes, self.seed)
        return replace(self, name=name)


@dataclass(frozen=True)
class TrainConfig:
    """Optimizer settings; these apply to a running network without rebuilding it.

    ``optimizer`` is ``"sgd"``, ``"rmsprop"`` or ``"adam"`` (as ``torch.optim``); ``momentum``
    is SGD's (the others do not use it); ``weight_decay`` is coupled L2 for all three;
    ``clip_norm`` (None: off) clips the total gradient norm before each step.
    """

    learning_rate: float = 0.1
    momentum: float = 0.0
    batch_size: int = 64
    optimizer: str = "sgd"
    weight_decay: float = 0.0
    clip_norm: float | None = None

    def __post_init__(self) -> None:
        _check_float("learning_rate", self.learning_rate, LEARNING_RATE_RANGE)
        _check_float("momentum", self.momentum, MOMENTUM_RANGE)
        _check_int("batch_size", self.batch_size, BATCH_RANGE)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_float("weight_decay", self.weight_decay, WEIGHT_DECAY_RANGE)
        if self.clip_norm is not None:
            _check_float("clip_norm", self.clip_norm, CLIP_NORM_RANGE)

    def optimizer_arguments(self) -> dict:
        """The keyword arguments of :meth:`Network.train_step` these settings stand for."""
        return {
            "momentum": self.momentum,
            "optimizer": self.optimizer,
            "weight_decay": self.weight_decay,
            "clip_norm": self.clip_norm,
        }


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything needed to reproduce a run exactly: network, data and training."""

    network: NetworkConfig = field(default_factory=NetworkConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        for name, cls in (("network", NetworkConfig), ("data", DataConfig), ("train", TrainConfig)):
            if not isinstance(getattr(self, name), cls):
                raise ValueError(f"{name} must be a {cls.__name__}")
        if self.network.normalization == "batch" and self.train.batch_size < BATCH_NORM_MIN_BATCH:
            raise ValueError(
                f"batch normalization needs a batch size of at least {BATCH_NORM_MIN_BATCH}: with "
                "one sample the batch variance is zero, and with two every normalized value is "
                "±1 whatever the input"
            )
        if self.train.batch_size > self.data.n_train:
            which = (
                f"training samples ({self.data.n_train}; {self.data.n_test} are held out for "
                "testing)"
                if self.data.n_test
                else f"samples ({self.data.n_samples})"
            )
            raise ValueError(
                f"batch_size ({self.train.batch_size}) cannot exceed the number of {which}"
            )

    def to_dict(self) -> dict:
        """Plain JSON-ready values (custom points as ``{"class_names", "rows"}``)."""
        document = asdict(self)
        points = self.data.points
        if points is not None:
            document["data"]["points"] = {
                "class_names": list(points.class_names),
                "rows": points.rows(),
            }
        return document
