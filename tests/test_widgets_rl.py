"""Tests of dlcourse.widgets.rl: Q-learning on the gridworld and the discount-factor view, headless."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("gymnasium")

from dlcourse.envs.gridworld import GridWorld  # noqa: E402
from dlcourse.ref import rl as R  # noqa: E402
from dlcourse.widgets import compat  # noqa: E402
from dlcourse.widgets import rl as wl  # noqa: E402
from widget_tree import find, images_in  # noqa: E402


# ---------------------------------------------------------------- compute


def test_q_learner_learns_the_optimal_route() -> None:
    learner = wl.QLearner(seed=0)
    learner.run(300)
    env = learner.env
    assert len(learner.returns) == 300 and all(s >= 1 for s in learner.steps)
    path = wl.greedy_path(learner.q, env)
    assert env.cell(path[-1]) == "G"  # γ = 0.9: the far +10 is worth more than the near +1
    optimal = env.optimal_q(0.9)
    # on the greedy route the learned values are close to value iteration's
    route = path[:-1]
    np.testing.assert_allclose(learner.q[route].max(axis=1), optimal[route].max(axis=1), atol=0.5)
    learner.reset()
    assert not learner.q.any() and learner.returns == []


def test_q_learner_uses_the_functions_it_is_given_and_truncates() -> None:
    calls = {"update": 0, "select": 0}

    def update(*args):
        calls["update"] += 1
        assert args[6] == (calls["update"] % 5 == 0)  # truncated at max_steps = 5
        return R.q_learning_update(*args)

    def select(q, eps, rng):
        calls["select"] += 1
        return 0  # always up: never reaches a goal

    learner = wl.QLearner(seed=1, max_steps=5, update=update, select=select, random_start=False)
    learner.run(2)
    assert calls == {"update": 10, "select": 10} and learner.steps == [5, 5] and learner.returns == [0.0, 0.0]


def test_greedy_arrows_leave_undecided_cells_blank() -> None:
    env = GridWorld()
    arrows = wl.greedy_arrows(np.zeros((env.n_states, env.n_actions)), env)
    assert arrows.shape == (env.height, env.width) and (arrows == -1).all()
    q = env.optimal_q(0.9)
    arrows = wl.greedy_arrows(q, env)
    assert (arrows.ravel()[env.terminal | env.wall] == -1).all()
    assert arrows.ravel()[env.start] == 2  # down, towards +10


@pytest.mark.parametrize("gamma, goal", [(0.3, "g"), (0.6, "g"), (0.75, "G"), (0.99, "G")])
def test_discount_view_switches_goals(gamma: float, goal: str) -> None:
    view = wl.discount_view(gamma)
    assert view["goal"] == goal and view["values"].shape == (5, 5)
    assert view["path"][0] == GridWorld().start


def test_plot_gridworld_labels_its_axes() -> None:
    env = GridWorld()
    view = wl.discount_view(0.9, env)
    ax = wl.plot_gridworld(None, env, view["values"], view["arrows"], "t", view["path"])
    assert ax.get_xlabel() == "column" and ax.get_ylabel() == "row" and ax.get_title() == "t"
    assert ax.figure.axes[-1].get_ylabel().startswith("state value")


# ---------------------------------------------------------------- widgets


def test_q_learning_explorer_buttons() -> None:
    box = wl.q_learning_explorer(run_episodes=20)
    (out,) = find(box, "Output")
    (status,) = find(box, "HTML")
    assert images_in(out) == 1 and "episodes: 0" in status.value
    (step,) = find(box, "Button", "step")
    (run,) = find(box, "Button", "run 20")
    (reset,) = find(box, "Button", "reset")
    step.click()
    assert "episodes: 1;" in status.value and images_in(out) == 1
    run.click()
    assert "episodes: 21;" in status.value
    (eps,) = find(box, "FloatSlider", "ε")
    eps.value = 0.0
    reset.click()
    assert "episodes: 0" in status.value


def test_discount_explorer_slider() -> None:
    box = wl.discount_explorer(gamma=0.5)
    (out,) = find(box, "Output")
    (status,) = find(box, "HTML")
    (slider,) = find(box, "FloatSlider", "γ")
    assert "near +1" in status.value and images_in(out) == 1
    slider.value = 0.95
    assert "far +10" in status.value and images_in(out) == 1


def test_widget_module_uses_only_portable_ipywidgets_names() -> None:
    source = open(wl.__file__, encoding="utf-8").read()
    assert not [name for name in compat.NOT_PORTABLE if name in source]


def test_import_stays_light() -> None:
    code = textwrap.dedent("""
        import sys
        import dlcourse.widgets.rl as wl
        heavy = [m for m in ("torch", "matplotlib", "ipywidgets", "gymnasium") if m in sys.modules]
        assert not heavy, heavy
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
