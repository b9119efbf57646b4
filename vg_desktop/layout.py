"""The window's layout rules, decided in one place: what goes where, at which size.

The two core views, the gradient bars and the activation/derivative plot, are always on screen
with at least :data:`BARS_PLOT` and :data:`ACTIVATION_PLOT` pixels of plot area; everything else
yields to them. :func:`decide` turns the room the window has and what each panel needs at the
current type size into a :class:`LayoutPlan`; :mod:`vg_desktop.window_layout` applies it to the
widgets. The function is pure (no Qt), so every rule is tested with plain numbers.

The rules, in order:

1. **Side column** (the controls, and the lesson beside them as a tab): docked at the left when
   the bars and the activation plot still fit side by side next to it; otherwise the controls and
   the lesson become tabs in the bottom row ("compact"), the history views' neighbours.
2. **Core row**: the bars and the activation plot side by side when they fit, else stacked.
   The activation plot takes :data:`ACTIVATION_SHARE` of the row, within both views' minimums.
3. **Heights**: the core row takes :data:`CORE_SHARE` of the height, never less than its
   minimum; the bottom row gets the rest, and at least what its current page needs, taken
   from the core row's share (never from its minimum). The lesson, in front in the bottom row,
   gets the height its current step needs to show whole (the projected summary, question
   and buttons), again down to the core row's minimum and no further.
4. **History views** (loss and accuracy, gradient flow, data): side by side in the bottom row
   when each gets its minimum, else tabs.
5. **Type size**: zoom enlarges the type only as far as the core views still fit at their
   minimums; beyond that the layout keeps the largest zoom that fits (the window never grows).
6. **Stage view**: only the core row and a strip with the run buttons (and the lesson's
   question): no side column, no bottom row.
7. **A user's splitter drag** is kept (as a share) and re-applied by the same rules, but never
   below a core view's minimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BARS_PLOT = (400, 220)  # minimum plot area of the gradient bars (pixels)
ACTIVATION_PLOT = (220, 180)  # minimum plot area of the activation plot
HISTORY_PLOT = (120, 60)  # minimum plot area of any other plot on screen
SAFETY = 6  # pixels added to every minimum: rounding, splitter handles, frame lines
CURVES_SIDE_BY_SIDE_SAVING = 60  # px of chrome loss and accuracy side by side do without

CORE_SHARE = 0.62  # of the central height: the core row
ACTIVATION_SHARE = 0.33  # of the core row's width, side by side
STACKED_BARS_SHARE = 0.55  # of the core column's height, stacked
WIDE_SIDE_MAX = 0.30  # the side column never takes more of the width than this

MIN_WINDOW = (960, 600)  # the smallest window the rules are made for (below 1,000 px wide)
LARGE_SCREEN = (1920, 1200)  # below this the first launch opens maximized
FIRST_SIZE = (1600, 1000)  # the first window on a larger screen


@dataclass(frozen=True)
class Needs:
    """What each panel needs at the current type size, in pixels.

    ``*_chrome`` is the panel's size minus its plot area (axes, legend, tool rows); a panel's
    minimum is its chrome plus its minimum plot area.
    """

    bars_chrome: tuple[int, int]
    activation_chrome: tuple[int, int]
    curves_chrome: tuple[int, int]  # two plots stacked: the height holds both plots' chrome
    heatmap_chrome: tuple[int, int]
    dataset_chrome: tuple[int, int]
    features_chrome: tuple[int, int]
    side_width: int  # the controls at the current type, with their scroll bar
    controls_min_height: int  # a bottom tab that holds the controls: a few rows at least
    lesson_min_height: int  # a bottom tab that holds the lesson
    tab_bar: int  # height of a tab bar
    title: int  # height of a panel title (history views side by side)
    handle: int = 6  # splitter handle
    lesson_height: int = 0  # the lesson's current step whole, at the bottom row's width

    def scaled(self, factor: float) -> Needs:
        """These needs at ``factor`` times the type size (chrome grows with the type)."""

        def s(pair: tuple[int, int]) -> tuple[int, int]:
            return (round(pair[0] * factor), round(pair[1] * factor))

        return Needs(
            bars_chrome=s(self.bars_chrome),
            activation_chrome=s(self.activation_chrome),
            curves_chrome=s(self.curves_chrome),
            heatmap_chrome=s(self.heatmap_chrome),
            dataset_chrome=s(self.dataset_chrome),
            features_chrome=s(self.features_chrome),
            side_width=round(self.side_width * factor),
            controls_min_height=round(self.controls_min_height * factor),
            lesson_min_height=round(self.lesson_min_height * factor),
            tab_bar=round(self.tab_bar * factor),
            title=round(self.title * factor),
            handle=self.handle,
            lesson_height=round(self.lesson_height * factor),
        )

    def bars_min(self) -> tuple[int, int]:
        return _plus(BARS_PLOT, self.bars_chrome)

    def activation_min(self) -> tuple[int, int]:
        return _plus(ACTIVATION_PLOT, self.activation_chrome)

    def history_min(self, key: str, in_tab: bool = False) -> tuple[int, int]:
        """Minimum size of a history view. 'curves' holds two plots, one above the other in a
        row, side by side in a tab across the window (one step axis less: its chrome is
        :data:`CURVES_SIDE_BY_SIDE_SAVING` lower)."""
        if key == "curves":
            w, h = self.curves_chrome
            if in_tab:
                return (
                    2 * HISTORY_PLOT[0] + 2 * w,
                    HISTORY_PLOT[1] + h - CURVES_SIDE_BY_SIDE_SAVING,
                )
            return (HISTORY_PLOT[0] + w + SAFETY, 2 * HISTORY_PLOT[1] + h + SAFETY)
        chrome = {
            "heatmap": self.heatmap_chrome,
            "dataset": self.dataset_chrome,
            "features": self.features_chrome,
            "network": self.features_chrome,  # a picture without axes: like the features
        }[key]
        return _plus(HISTORY_PLOT, chrome)


def _plus(plot: tuple[int, int], chrome: tuple[int, int]) -> tuple[int, int]:
    return (plot[0] + chrome[0] + SAFETY, plot[1] + chrome[1] + SAFETY)


HISTORY_KEYS = ("curves", "heatmap", "dataset", "features", "network")
# Side by side, the history views take three places: the data and the layer features share one
# (as tabs), so the two consequences of a starved layer are one click apart.
ROW_SLOTS = (("curves",), ("heatmap",), ("dataset", "features", "network"))
ROW_WEIGHTS = (0.40, 0.27, 0.33)  # how the rest of the row's width is shared
CURVES_ROW_FACTOR = 3  # the loss curves' legend names both runs of A/B in full


@dataclass(frozen=True)
class LayoutPlan:
    """Where everything goes, and how big, for one window size and type size."""

    side_column: bool  # controls (and lesson) docked at the left; else bottom tabs
    side_width: int
    core_stacked: bool  # bars above the activation plot
    core_height: int  # the core row (or column, stacked)
    bottom_height: int  # the bottom row (history views, and the controls when compact)
    activation_size: int  # width side by side; height stacked
    history_in_tabs: bool
    bottom_pages: tuple[str, ...]  # the bottom row's pages, in tab order
    stage: bool = False
    fits: bool = True  # every minimum is met
    notes: tuple[str, ...] = field(default_factory=tuple)


def row_slot_min(slot: list[str] | tuple[str, ...], needs: Needs) -> int:
    """Width of one place in the history row: its widest view's minimum; the loss curves get
    :data:`CURVES_ROW_FACTOR` times theirs, so their legend names both runs of A/B in full."""
    return max(needs.history_min(k)[0] * (CURVES_ROW_FACTOR if k == "curves" else 1) for k in slot)


def core_fits_side_by_side(width: int, needs: Needs) -> bool:
    return width >= needs.bars_min()[0] + needs.activation_min()[0] + needs.handle


def core_min_height(needs: Needs, stacked: bool) -> int:
    bars, act = needs.bars_min(), needs.activation_min()
    return bars[1] + act[1] + needs.handle if stacked else max(bars[1], act[1])


def bottom_page_height(key: str, needs: Needs) -> int:
    """Height the bottom row needs to show page ``key`` (with its tab bar)."""
    if key in HISTORY_KEYS:
        return needs.history_min(key, in_tab=True)[1] + needs.tab_bar
    if key == "controls":
        return needs.controls_min_height + needs.tab_bar
    if key == "lesson":
        return needs.lesson_min_height + needs.tab_bar
    raise ValueError(f"unknown page {key!r}")


def decide(
    central: tuple[int, int],
    needs: Needs,
    *,
    lesson_open: bool = False,
    bottom_page: str = "controls",
    stage: bool = False,
    controls_shown: bool = True,
    history: tuple[str, ...] = HISTORY_KEYS,
    core_share: float | None = None,
    activation_share: float | None = None,
    side_width: int | None = None,
) -> LayoutPlan:
    """The layout for a central area of ``central`` (width, height) pixels.

    ``bottom_page`` is the bottom row's current page (its needs set the row's height);
    ``controls_shown`` and ``history`` say which of the other panels the user keeps open;
    ``core_share``, ``activation_share`` and ``side_width`` are a user's splitter drags (None:
    the defaults).
    """
    width, height = central
    notes: list[str] = []
    bars, act = needs.bars_min(), needs.activation_min()
    h = needs.handle

    if stage:
        stacked = not core_fits_side_by_side(width, needs)
        core_h = height
        act_size = _activation_size(width, height, needs, stacked, activation_share)
        fits = core_h >= core_min_height(needs, stacked) and (
            stacked or core_fits_side_by_side(width, needs)
        )
        if stacked:
            fits = fits and width >= max(bars[0], act[0])
        return LayoutPlan(
            side_column=False,
            side_width=0,
            core_stacked=stacked,
            core_height=core_h,
            bottom_height=0,
            activation_size=act_size,
            history_in_tabs=True,
            bottom_pages=(),
            stage=True,
            fits=fits,
        )

    # Rule 1: the side column, if the core views still fit side by side beside it.
    side_panels = (("lesson",) if lesson_open else ()) + (("controls",) if controls_shown else ())
    side_w = needs.side_width
    if side_width is not None:  # a user's drag, kept while the core views still fit
        side_w = max(side_w, min(side_width, width - h - (bars[0] + act[0] + h)))
    side = (
        bool(side_panels)
        and needs.side_width <= round(WIDE_SIDE_MAX * width)
        and core_fits_side_by_side(width - side_w - h, needs)
    )
    core_width = width - side_w - h if side else width

    # Rule 2: side by side, else stacked.
    stacked = not core_fits_side_by_side(core_width, needs)
    core_min = core_min_height(needs, stacked)

    # Rule 4 (needed before the heights): history views side by side or in tabs.
    history = tuple(k for k in HISTORY_KEYS if k in history)
    slots = [[k for k in slot if k in history] for slot in ROW_SLOTS]
    slots = [slot for slot in slots if slot]
    row_width = sum(row_slot_min(slot, needs) for slot in slots)
    row_width += h * max(len(slots) - 1, 0)
    row_height = needs.title + max(
        (
            max(needs.history_min(k)[1] for k in slot) + (needs.tab_bar if len(slot) > 1 else 0)
            for slot in slots
        ),
        default=0,
    )
    pages: tuple[str, ...] = history if side else side_panels + history
    history_row = bool(pages) and pages == history and core_width >= row_width
    if not pages:  # nothing below the core views: they take the whole height
        act_size = _activation_size(core_width, height, needs, stacked, activation_share)
        return LayoutPlan(
            side_column=side,
            side_width=side_w if side else 0,
            core_stacked=stacked,
            core_height=height,
            bottom_height=0,
            activation_size=act_size,
            history_in_tabs=False,
            bottom_pages=(),
            fits=height >= core_min,
        )
    if bottom_page not in pages:
        bottom_page = pages[0]

    # Rule 3: heights.
    share = CORE_SHARE if core_share is None else core_share
    core_h = max(core_min, round(share * height))
    bottom_need = row_height if history_row else bottom_page_height(bottom_page, needs)
    if height - core_h - h < bottom_need:
        core_h = max(core_min, height - h - bottom_need)
    if history_row and height - core_h - h < bottom_need:
        history_row = False  # tabs need less height than three titled views: try them
        bottom_need = bottom_page_height(bottom_page, needs)
        core_h = max(core_min, min(core_h, height - h - bottom_need))
    if bottom_page == "lesson" and not history_row:
        wanted = max(needs.lesson_min_height, needs.lesson_height) + needs.tab_bar
        core_h = max(core_min, min(core_h, height - h - wanted))
    bottom_h = height - core_h - h
    fits = bottom_h >= bottom_need and core_h >= core_min
    if not fits:
        notes.append(
            f"bottom row {bottom_h} px < {bottom_need} px for {bottom_page}"
            if core_h >= core_min
            else f"core row {core_h} px < {core_min} px"
        )
    if stacked and core_width < max(bars[0], act[0]):
        fits = False
        notes.append(f"core column {core_width} px < {max(bars[0], act[0])} px")

    act_size = _activation_size(core_width, core_h, needs, stacked, activation_share)
    return LayoutPlan(
        side_column=side,
        side_width=side_w if side else 0,
        core_stacked=stacked,
        core_height=core_h,
        bottom_height=bottom_h,
        activation_size=act_size,
        history_in_tabs=not history_row,
        bottom_pages=pages,
        fits=fits,
        notes=tuple(notes),
    )


def _activation_size(
    core_width: int, core_height: int, needs: Needs, stacked: bool, share: float | None
) -> int:
    """The activation plot's width (side by side) or height (stacked), within both minimums."""
    bars, act = needs.bars_min(), needs.activation_min()
    if stacked:
        total, lo, hi = core_height - needs.handle, act[1], core_height - needs.handle - bars[1]
        default = 1.0 - STACKED_BARS_SHARE
    else:
        total, lo, hi = core_width - needs.handle, act[0], core_width - needs.handle - bars[0]
        default = ACTIVATION_SHARE
    want = round((default if share is None else share) * total)
    return max(lo, min(want, hi)) if hi >= lo else lo


def fits_at(central: tuple[int, int], needs: Needs, **kwargs) -> bool:
    """True when :func:`decide` meets every minimum for this central area and these needs."""
    return decide(central, needs, **kwargs).fits


def largest_fitting_zoom(
    central: tuple[int, int],
    needs_at_zoom_1: Needs,
    zoom: float,
    current_zoom: float = 1.0,
    lowest: float = 1.0,
    **kwargs,
) -> float:
    """Rule 5: ``zoom`` if the layout fits with it, else the largest zoom in steps of 5 % down
    to ``lowest`` that does (``lowest`` itself when none does: the type never shrinks below
    the user's choice, only stops growing)."""
    z = zoom
    while z > lowest + 1e-9:
        if fits_at(central, needs_at_zoom_1.scaled(z), **kwargs):
            return z
        z = max(lowest, z / 1.05)
    return lowest


def first_window(available: tuple[int, int]) -> tuple[tuple[int, int], bool]:
    """((width, height), maximized) of the first window on a screen with ``available`` pixels:
    maximized below :data:`LARGE_SCREEN`, else :data:`FIRST_SIZE` (always within the screen)."""
    aw, ah = available
    if aw < LARGE_SCREEN[0] or ah < LARGE_SCREEN[1]:
        return (aw, ah), True
    return (min(FIRST_SIZE[0], aw), min(FIRST_SIZE[1], ah)), False


def minimum_window(available: tuple[int, int]) -> tuple[int, int]:
    """The window's minimum size: :data:`MIN_WINDOW`, or the whole screen if that is smaller."""
    return (min(MIN_WINDOW[0], available[0]), min(MIN_WINDOW[1], available[1]))
