"""What keeps the widgets working on ipywidgets 7.7 (Colab) and 8.x (JupyterLab 4), front end or not.

The widgets use only classes and traits that exist in both versions: ``IntSlider``,
``FloatLogSlider``, ``Button``, ``Output``, ``HTML``, ``HBox``, ``VBox`` and ``Layout``, with
the traits ``value/min/max/step/base/description/continuous_update/readout_format``,
``style={"description_width": ...}``, ``button_style``, ``icon``, ``Button.tooltip``,
``disabled`` and ``Output.outputs``. Avoided on purpose (8.x only, or changed in 8.x):

- ``description_allow_html``: descriptions stay plain text; markup goes into an ``HTML`` widget.
- ``tooltip`` on anything but ``Button``: 8.x renamed ``description_tooltip`` to ``tooltip`` and
  deprecated the old name, so neither spelling works warning-free on both versions.
- ``tabbable`` and ``behavior`` (on every widget / slider in 8.x only).
- style keys added in 8.x (``text_color``, ``font_size``, ``font_style``, ... on labels, sliders and
  buttons): only ``description_width`` is used.
- ``Layout.border`` (8.x splits it into ``border_top`` … ``border_left``) and ``overflow_x`` /
  ``overflow_y`` (gone in 8.x): 7.7-only or 8-only spellings, so neither.
- widgets added in 8.x (``Stack``, ``TagsInput``, ``ColorsInput``, ``Datetime``, ...).
- ``Output.append_display_data``: it needs a running IPython, which a headless run lacks.

``NOT_PORTABLE`` lists these names so a test can prove the widget modules never use them.

The display strategy (:func:`show_figure`): inside a kernel, a figure is displayed *through* the
``Output`` widget (``with out: display(...)``), which is the path that Colab, JupyterLab and
nbclient's headless widget capture all support. With no kernel at all (plain Python, pytest) there
is nothing to route display messages, so the figure's PNG is written straight into
``Output.outputs``, the state a front end would render.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: importing this module stays free of matplotlib/ipywidgets
    import ipywidgets
    from matplotlib.figure import Figure

__all__ = ["NOT_PORTABLE", "is_headless", "figure_bundle", "show_figure"]

# Names missing from, or different in, one of ipywidgets 7.7 and 8.x; the widget modules avoid them.
NOT_PORTABLE: frozenset[str] = frozenset(
    {
        "description_allow_html",
        "description_tooltip",  # 7.7's name, deprecated in 8.x (which calls it tooltip)
        "text_color",
        "font_size",
        "font_style",
        "font_variant",
        "font_family",
        "text_decoration",
        "border",
        "border_top",
        "border_right",
        "border_bottom",
        "border_left",
        "overflow_x",
        "overflow_y",
        "tabbable",
        "behavior",
        "append_display_data",
        "Stack",
        "TagsInput",
        "ColorsInput",
        "FloatsInput",
        "IntsInput",
        "Datetime",
        "NaiveDatetime",
        "Time",
    }
)


def _ipython() -> Any:
    """The running IPython shell, or None (also when IPython is not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets depends on IPython
        return None
    return get_ipython()


def is_headless() -> bool:
    """True when no IPython kernel can carry display messages: plain Python, pytest, terminal IPython.

    A notebook executed without a browser (nbclient, nbval, nbgrader) still has a kernel, so it
    is *not* headless in this sense: its widget outputs are captured like a front end's would be.
    """
    ip = _ipython()
    return ip is None or getattr(ip, "kernel", None) is None


def figure_bundle(fig: Figure) -> tuple[dict[str, Any], dict[str, Any]]:
    """A figure's display data and metadata, as a notebook output stores them.

    Uses the active IPython formatters when they can draw the figure, so ``%matplotlib inline``
    settings (retina, svg) apply; otherwise (no IPython, or a backend such as ipympl whose
    figures display as a canvas widget) falls back to a PNG, which every front end shows.
    """
    ip = _ipython()
    if ip is not None:
        data, metadata = ip.display_formatter.format(fig)
        if any(key.startswith("image/") for key in data):
            return data, metadata
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    return {"image/png": png, "text/plain": repr(fig)}, {}


def show_figure(out: ipywidgets.Output, fig: Figure) -> None:
    """Replace what ``out`` shows with ``fig``; works with a front end, headless, and on 7.7 and 8.x.

    The caller still owns ``fig`` (and should ``plt.close`` it): the output holds a rendered copy.
    """
    data, metadata = figure_bundle(fig)
    if is_headless():
        out.outputs = ({"output_type": "display_data", "data": data, "metadata": metadata},)
        return
    from IPython.display import display

    with out:
        # wait=True clears only when the new image arrives, so the widget does not flicker/jump.
        out.clear_output(wait=True)
        display(data, raw=True, metadata=metadata)
