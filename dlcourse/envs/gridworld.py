"""A small deterministic gridworld as a ``gymnasium.Env``: the tabular playground of 13-reinforcement.

The world is a grid read from a list of strings, one character per cell:

- ``S`` the start, ``.`` an empty cell, ``#`` a wall (moving into it, or off the grid, leaves the
  agent where it is);
- ``G`` and ``g``: goals; entering one gives its reward (:data:`DEFAULT_REWARDS`) and **terminates**
  the episode;
- ``X`` a pit: entering it gives its (negative) reward and terminates the episode too.

Every other step gives ``step_reward`` (0 by default). The default layout has a small goal ``g``
(+1) close to the start and a large one ``G`` (+10) far away: a short-sighted agent (small γ)
walks to ``g``, a far-sighted one to ``G`` (the discount-factor widget shows where it switches).

States are cell indices ``row * width + col`` (a ``Discrete`` observation); actions are
``0`` up, ``1`` right, ``2`` down, ``3`` left. Registered as ``"dlcourse/GridWorld-v0"`` with a
time limit of 100 steps (``gymnasium.make`` wraps it in ``TimeLimit``): an episode cut there is
**truncated**, not terminated — the state it stopped in still has a future, so a return estimate
bootstraps through it.

Because the dynamics are known, :meth:`GridWorld.optimal_q` computes the exact optimal Q table by
value iteration, which the widgets and tests compare learned tables with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["GridWorld", "DEFAULT_LAYOUT", "DEFAULT_REWARDS", "ACTIONS", "ACTION_ARROWS"]

DEFAULT_LAYOUT: tuple[str, ...] = (
    "S.g..",
    ".##..",
    ".....",
    ".#X#.",
    "....G",
)
#: reward for entering a terminal cell, by its character
DEFAULT_REWARDS: Mapping[str, float] = {"G": 10.0, "g": 1.0, "X": -10.0}
#: (row, col) change of each action
ACTIONS: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1))
ACTION_ARROWS: tuple[str, ...] = ("↑", "→", "↓", "←")

_COLOURS = {".": (245, 245, 245), "#": (60, 60, 60), "S": (200, 220, 255), "G": (80, 200, 80),
            "g": (170, 230, 170), "X": (220, 80, 80)}
_CELL = 16  # pixels per cell in rgb_array frames


class GridWorld(gym.Env):
    """A deterministic gridworld (see the module docstring).

    Args:
        layout: rows of the grid, all of one length, with exactly one ``S``.
        rewards: reward for entering each terminal character (``G``, ``g``, ``X``) present.
        step_reward: reward of every other step.
        render_mode: None, ``"ansi"`` (a string) or ``"rgb_array"`` (an (H·16, W·16, 3) uint8 image).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, layout: Sequence[str] = DEFAULT_LAYOUT, rewards: Mapping[str, float] | None = None,
                 step_reward: float = 0.0, render_mode: str | None = None) -> None:
        rows = [str(r) for r in layout]
        if not rows or any(len(r) != len(rows[0]) for r in rows) or not rows[0]:
            raise ValueError(f"layout must be a non-empty list of strings of one length; got lengths "
                             f"{[len(r) for r in rows]}")
        unknown = sorted(set("".join(rows)) - set(_COLOURS))
        if unknown:
            raise ValueError(f"layout has unknown cells {unknown}; use S . # G g X")
        if "".join(rows).count("S") != 1:
            raise ValueError("layout needs exactly one start cell 'S'")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None, 'ansi' or 'rgb_array'; got {render_mode!r}")
        self.layout = tuple(rows)
        self.rewards = dict(DEFAULT_REWARDS if rewards is None else rewards)
        missing = sorted({c for c in "".join(rows) if c in "GgX"} - set(self.rewards))
        if missing:
            raise ValueError(f"rewards has no entry for the terminal cells {missing}")
        self.step_reward = float(step_reward)
        self.render_mode = render_mode
        self.height, self.width = len(rows), len(rows[0])
        self.n_states, self.n_actions = self.height * self.width, len(ACTIONS)
        self.observation_space = spaces.Discrete(self.n_states)
        self.action_space = spaces.Discrete(self.n_actions)
        self.start = "".join(rows).index("S")
        self.terminal = np.array([c in "GgX" for c in "".join(rows)])
        self.wall = np.array([c == "#" for c in "".join(rows)])
        # the model, tabulated once: next state, reward and termination of every (state, action)
        self.next_state = np.zeros((self.n_states, self.n_actions), dtype=np.int64)
        self.reward = np.zeros((self.n_states, self.n_actions))
        for s in range(self.n_states):
            for a in range(self.n_actions):
                self.next_state[s, a], self.reward[s, a] = self._move(s, a)
        self.state = self.start

    def cell(self, state: int) -> str:
        """The layout character of ``state``."""
        return self.layout[state // self.width][state % self.width]

    def _move(self, state: int, action: int) -> tuple[int, float]:
        row, col = divmod(state, self.width)
        r, c = row + ACTIONS[action][0], col + ACTIONS[action][1]
        if not (0 <= r < self.height and 0 <= c < self.width) or self.layout[r][c] == "#":
            r, c = row, col  # bumped into the edge or a wall
        nxt = r * self.width + c
        return nxt, self.rewards.get(self.cell(nxt), self.step_reward)

    # ------------------------------------------------------------------ gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Start an episode: returns ``(observation, info)``; ``seed`` seeds ``self.np_random``.

        The episode starts at ``S``, or, with ``options={"random_start": True}`` ("exploring starts"),
        in a uniformly drawn cell that is neither a wall nor terminal, so that every state gets visited.
        """
        super().reset(seed=seed)
        self.state = self.start
        if options and options.get("random_start"):
            self.state = int(self.np_random.choice(np.flatnonzero(~(self.terminal | self.wall))))
        return int(self.state), {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Move: ``(observation, reward, terminated, truncated, info)``; truncation comes from TimeLimit."""
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an int in 0..{self.n_actions - 1} (up, right, down, left); got {action!r}")
        a = int(action)
        nxt, reward = int(self.next_state[self.state, a]), float(self.reward[self.state, a])
        self.state = nxt
        return nxt, reward, bool(self.terminal[nxt]), False, {}

    def render(self) -> str | np.ndarray | None:
        """``"ansi"``: the grid as text with the agent as ``A``; ``"rgb_array"``: an image; None otherwise."""
        if self.render_mode == "ansi":
            chars = [list(row) for row in self.layout]
            r, c = divmod(self.state, self.width)
            chars[r][c] = "A"
            return "\n".join("".join(row) for row in chars) + "\n"
        if self.render_mode == "rgb_array":
            return self.rgb_frame()
        return None

    def rgb_frame(self) -> np.ndarray:
        """The grid as an (H·16, W·16, 3) uint8 image, the agent a dark square in its cell."""
        image = np.array([[_COLOURS[ch] for ch in row] for row in self.layout], dtype=np.uint8)
        image = np.repeat(np.repeat(image, _CELL, axis=0), _CELL, axis=1)
        r, c = divmod(self.state, self.width)
        q = _CELL // 4
        image[r * _CELL + q:(r + 1) * _CELL - q, c * _CELL + q:(c + 1) * _CELL - q] = (30, 30, 160)
        return image

    # ------------------------------------------------------------------ the model, for exact answers

    def optimal_q(self, gamma: float, tol: float = 1e-10, max_iter: int = 10_000) -> np.ndarray:
        """The optimal action values Q*(s, a), shape (n_states, n_actions), by value iteration.

        Q*(s, a) = r(s, a) + γ (1 − terminal(s')) max_a' Q*(s', a'). Terminal and wall cells keep 0
        (they are never acted in). γ = 1 is allowed: every cell can reach a terminal one, but a
        policy that never arrives is worth 0, so values stay finite.
        """
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1]; got {gamma}")
        q = np.zeros((self.n_states, self.n_actions))
        live = ~(self.terminal | self.wall)
        cont = (~self.terminal[self.next_state]).astype(float)
        for _ in range(max_iter):
            v = q.max(axis=1)
            new = np.where(live[:, None], self.reward + gamma * cont * v[self.next_state], 0.0)
            if np.abs(new - q).max() < tol:
                return new
            q = new
        return q
