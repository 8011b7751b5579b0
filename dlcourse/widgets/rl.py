"""Widgets of 13-reinforcement: Q-learning on the gridworld, and the discount factor's horizon.

Compute (NumPy, no display):

- :class:`QLearner`: tabular Q-learning on :class:`dlcourse.envs.GridWorld`, one episode per
  :meth:`QLearner.episode` call, with ε-greedy actions (the update and the action rule can be the
  student's functions, the reference's by default);
- :func:`greedy_arrows`: the greedy action of each cell (−1 where nothing is decided: terminal
  cells, walls, cells whose actions are all tied, e.g. never visited);
- :func:`greedy_path`: the cells the greedy policy walks through from the start;
- :func:`discount_view`: the optimal values and policy for a discount factor γ (value iteration),
  and which goal the greedy path from the start reaches.

Plot: :func:`plot_gridworld` draws values as colours, the policy as arrows and the walls, goals
and pit as labelled cells. Widgets: :func:`q_learning_explorer` (buttons "step", "run", "reset"),
:func:`discount_explorer` (a γ slider).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from dlcourse.ref import rl as ref_rl

if TYPE_CHECKING:  # annotations only: this module imports no matplotlib, ipywidgets or gymnasium at import
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from dlcourse.envs.gridworld import GridWorld

__all__ = ["QLearner", "greedy_arrows", "greedy_path", "discount_view", "plot_gridworld", "plot_returns",
           "q_learning_explorer",
           "discount_explorer"]

UpdateFn = Callable[..., np.ndarray]  # q_learning_update's signature
SelectFn = Callable[[np.ndarray, float, np.random.Generator], int]  # epsilon_greedy's

_LABELS = {"S": "start", "G": "+10", "g": "+1", "X": "pit"}


def _gridworld(env: GridWorld | None) -> GridWorld:
    from dlcourse.envs.gridworld import GridWorld

    return GridWorld() if env is None else env


# --------------------------------------------------------------------------------------------
# compute
# --------------------------------------------------------------------------------------------


class QLearner:
    """Tabular Q-learning on a gridworld, episode by episode.

    Args:
        env: the :class:`~dlcourse.envs.gridworld.GridWorld` (default layout when None).
        alpha, gamma, epsilon: learning rate, discount factor, exploration rate.
        seed: seeds the action choices and the environment's resets.
        max_steps: an episode longer than this is truncated (as gymnasium's time-limit wrapper would).
        random_start: exploring starts (each episode begins in a random free cell): without them an
            agent that finds the near +1 first rarely wanders far enough to find the +10.
        update, select: ``q_learning_update`` and ``epsilon_greedy`` to use (the reference's by default).

    Attributes:
        q: (S, A) the current table; ``returns``: the undiscounted return of every episode so far;
        ``steps``: the length of every episode.
    """

    def __init__(self, env: GridWorld | None = None, alpha: float = 0.5, gamma: float = 0.9, epsilon: float = 0.5,
                 seed: int = 0, max_steps: int = 100, update: UpdateFn | None = None,
                 select: SelectFn | None = None, random_start: bool = True) -> None:
        self.env = _gridworld(env)
        self.random_start = random_start
        self.alpha, self.gamma, self.epsilon, self.seed, self.max_steps = alpha, gamma, epsilon, seed, max_steps
        self.update = ref_rl.q_learning_update if update is None else update
        self.select = ref_rl.epsilon_greedy if select is None else select
        self.reset()

    def reset(self) -> None:
        """Forget everything: Q = 0, no episodes, the generator re-seeded."""
        self.q = np.zeros((self.env.n_states, self.env.n_actions))
        self.rng = np.random.default_rng(self.seed)
        self.returns: list[float] = []
        self.steps: list[int] = []

    def episode(self) -> float:
        """Play one episode, updating Q after every step; returns its (undiscounted) return."""
        state, _ = self.env.reset(seed=int(self.rng.integers(2**31)), options={"random_start": self.random_start})
        total, done, t = 0.0, False, 0
        while not done:
            action = int(self.select(self.q[state], self.epsilon, self.rng))
            nxt, reward, terminated, truncated, _ = self.env.step(action)
            t += 1
            truncated = truncated or t >= self.max_steps
            self.q = self.update(self.q, state, action, reward, nxt, terminated, truncated, self.alpha, self.gamma)
            total += reward
            state, done = nxt, terminated or truncated
        self.returns.append(total)
        self.steps.append(t)
        return total

    def run(self, episodes: int) -> list[float]:
        """Play ``episodes`` episodes; returns their returns."""
        return [self.episode() for _ in range(episodes)]


def greedy_arrows(q: np.ndarray, env: GridWorld) -> np.ndarray:
    """(H, W) int: the greedy action of each cell, −1 where none is decided (terminal, wall, all tied)."""
    q = np.asarray(q)
    best = q.argmax(axis=1)
    undecided = env.terminal | env.wall | (q.max(axis=1) == q.min(axis=1))
    return np.where(undecided, -1, best).reshape(env.height, env.width)


def greedy_path(q: np.ndarray, env: GridWorld, max_len: int | None = None) -> list[int]:
    """The states the greedy policy visits from the start, until a terminal state, a loop or ``max_len`` steps."""
    state, path = env.start, [env.start]
    for _ in range(env.n_states if max_len is None else max_len):
        if env.terminal[state]:
            break
        state = int(env.next_state[state, int(np.argmax(q[state]))])
        if state in path:
            path.append(state)
            break
        path.append(state)
    return path


def discount_view(gamma: float, env: GridWorld | None = None) -> dict[str, Any]:
    """The optimal solution for discount ``gamma``: ``q`` (S, A), ``values`` (H, W), ``arrows`` (H, W),
    ``path`` (greedy from the start) and ``goal`` (the cell character the path ends in, or "" if none)."""
    env = _gridworld(env)
    q = env.optimal_q(gamma)
    path = greedy_path(q, env)
    end = path[-1]
    return {"q": q, "values": q.max(axis=1).reshape(env.height, env.width), "arrows": greedy_arrows(q, env),
            "path": path, "goal": env.cell(end) if env.terminal[end] else ""}


# --------------------------------------------------------------------------------------------
# plot
# --------------------------------------------------------------------------------------------


def plot_gridworld(ax: Axes | None, env: GridWorld, values: np.ndarray, arrows: np.ndarray, title: str = "",
                   path: list[int] | None = None) -> Axes:
    """Values (H, W) as colours, arrows (H, W) (−1: none) as the policy, special cells labelled."""
    from dlcourse.envs.gridworld import ACTIONS

    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(4.6, 4.2), layout="constrained").add_subplot()
    values = np.asarray(values, dtype=float).reshape(env.height, env.width)
    shown = np.ma.masked_where(env.wall.reshape(values.shape), values)
    image = ax.imshow(shown, cmap="viridis", origin="upper")
    ax.figure.colorbar(image, ax=ax, label="state value V(s) = max_a Q(s, a)", shrink=0.8)
    for s in range(env.n_states):
        r, c = divmod(s, env.width)
        ch = env.cell(s)
        if ch == "#":
            ax.add_patch(_rectangle(c, r, "dimgray"))
        elif ch in _LABELS and env.terminal[s]:
            ax.text(c, r, _LABELS[ch], ha="center", va="center", fontsize=9, color="white", weight="bold")
        a = int(arrows[r, c])
        if a >= 0:
            dr, dc = ACTIONS[a]
            ax.annotate("", xy=(c + 0.32 * dc, r + 0.32 * dr), xytext=(c - 0.32 * dc, r - 0.32 * dr),
                        arrowprops={"arrowstyle": "->", "color": "white", "lw": 1.6})
        if ch == "S":
            ax.text(c - 0.42, r - 0.42, "S", ha="left", va="top", fontsize=8, color="white")
    if path is not None and len(path) > 1:
        rows, cols = np.divmod(np.asarray(path), env.width)
        ax.plot(cols, rows, color="tab:orange", lw=2.5, alpha=0.8, label="greedy path from S")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, frameon=False)
    ax.set(xticks=range(env.width), yticks=range(env.height), xlabel="column", ylabel="row", title=title)
    return ax


def _rectangle(c: int, r: int, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((c - 0.5, r - 0.5), 1, 1, color=colour)


def plot_returns(ax: Axes, returns: list[float]) -> Axes:
    """The return of each episode, with a moving average of 20."""
    x = np.arange(1, len(returns) + 1)
    ax.plot(x, returns, ".", ms=3, alpha=0.5, label="episode")
    if len(returns) >= 20:
        ax.plot(x[19:], np.convolve(returns, np.ones(20) / 20, mode="valid"), label="mean of 20")
    ax.set(xlabel="episode", ylabel="return (undiscounted)", title="returns during training")
    if returns:
        ax.legend(fontsize=8)
    return ax


# --------------------------------------------------------------------------------------------
# widgets
# --------------------------------------------------------------------------------------------


def _render(out: ipywidgets.Output, fig: Figure) -> None:
    from dlcourse.widgets.compat import show_figure

    show_figure(out, fig)


def q_learning_explorer(alpha: float = 0.5, gamma: float = 0.9, epsilon: float = 0.5, seed: int = 0,
                        run_episodes: int = 100, update: UpdateFn | None = None,
                        select: SelectFn | None = None) -> ipywidgets.VBox:
    """Q-learning on the gridworld: state values and greedy arrows as the table learns.

    Buttons: "step" (one episode), "run" (``run_episodes`` episodes), "reset" (Q = 0). Sliders by
    description: "α", "γ", "ε" (they apply from the next episode on). ``update``/``select``: the
    student's ``q_learning_update`` and ``epsilon_greedy`` (the reference's by default).
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    learner = QLearner(alpha=alpha, gamma=gamma, epsilon=epsilon, seed=seed, update=update, select=select)
    style = {"description_width": "30px"}
    w_alpha = widgets.FloatSlider(value=alpha, min=0.05, max=1.0, step=0.05, description="α", style=style,
                                  continuous_update=False)
    w_gamma = widgets.FloatSlider(value=gamma, min=0.0, max=0.99, step=0.01, description="γ", style=style,
                                  continuous_update=False)
    w_eps = widgets.FloatSlider(value=epsilon, min=0.0, max=1.0, step=0.05, description="ε", style=style,
                                continuous_update=False)
    step = widgets.Button(description="step", icon="step-forward", tooltip="play one episode")
    run = widgets.Button(description=f"run {run_episodes}", icon="play", tooltip=f"play {run_episodes} episodes")
    reset = widgets.Button(description="reset", icon="refresh", tooltip="Q = 0")
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="340px"))

    def draw() -> None:
        env, q = learner.env, learner.q
        fig = Figure(figsize=(9, 3.8), layout="constrained")
        left, right = fig.subplots(1, 2, width_ratios=[1.1, 1])
        plot_gridworld(left, env, q.max(axis=1), greedy_arrows(q, env), f"after {len(learner.returns)} episodes",
                       greedy_path(q, env))
        plot_returns(right, learner.returns)
        last = f"last return {learner.returns[-1]:g} in {learner.steps[-1]} steps" if learner.returns else "no episode yet"
        status.value = f"episodes: {len(learner.returns)}; {last}; V(start) = {q[env.start].max():.3f}"
        _render(out, fig)

    def settings() -> None:
        learner.alpha, learner.gamma, learner.epsilon = float(w_alpha.value), float(w_gamma.value), float(w_eps.value)

    def on_step(_: Any) -> None:
        settings()
        learner.episode()
        draw()

    def on_run(_: Any) -> None:
        settings()
        learner.run(run_episodes)
        draw()

    def on_reset(_: Any) -> None:
        settings()
        learner.reset()
        draw()

    step.on_click(on_step)
    run.on_click(on_run)
    reset.on_click(on_reset)
    draw()
    return widgets.VBox([widgets.HBox([w_alpha, w_gamma, w_eps]), widgets.HBox([step, run, reset]), status, out])


def discount_explorer(gamma: float = 0.9) -> ipywidgets.VBox:
    """A γ slider over the gridworld's optimal values and policy: which goal is worth walking to.

    With a small γ a reward k steps away is worth γ^k of itself, so the near +1 beats the far +10;
    raising γ makes the policy far-sighted. Slider: "γ" (0 … 0.99).
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    env = _gridworld(None)
    w_gamma = widgets.FloatSlider(value=gamma, min=0.0, max=0.99, step=0.01, description="γ",
                                  style={"description_width": "30px"}, continuous_update=False)
    status = widgets.HTML()
    out = widgets.Output(layout=widgets.Layout(min_height="340px"))

    def update(_: Any = None) -> None:
        g = float(w_gamma.value)
        view = discount_view(g, env)
        fig = Figure(figsize=(5, 4.4), layout="constrained")
        plot_gridworld(fig.add_subplot(), env, view["values"], view["arrows"], f"optimal policy, γ = {g:.2f}",
                       view["path"])
        goal = {"G": "the far +10", "g": "the near +1", "X": "the pit"}.get(view["goal"], "no goal")
        status.value = (f"γ = {g:.2f}: from the start the agent heads for <b>{goal}</b> "
                        f"({len(view['path']) - 1} steps); V(start) = {view['values'].flat[env.start]:.3f}")
        _render(out, fig)

    w_gamma.observe(update, names="value")
    update()
    return widgets.VBox([w_gamma, status, out])
