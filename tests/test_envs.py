"""``dlcourse.envs``: the gridworld follows gymnasium's API (``check_env``), registers, and is lazy.

- gymnasium's own ``check_env`` passes on the environment (spaces, reset/step signatures,
  seeding, render modes);
- ``gymnasium.make("dlcourse/GridWorld-v0")`` works and its TimeLimit *truncates* (not terminates)
  at 100 steps; goals and the pit terminate with their rewards; walls and edges block;
- the rendered text and image show the agent; bad layouts and actions give clear errors;
- value iteration (``optimal_q``) satisfies the Bellman optimality equation, and the default
  layout's best goal from the start switches from the near +1 to the far +10 as γ grows;
- ``import dlcourse`` (and ``dlcourse.ref``/``dlcourse.widgets.rl``) does not import gymnasium.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from dlcourse.envs import GRIDWORLD_ID, GridWorld  # noqa: E402
from dlcourse.envs.gridworld import ACTIONS  # noqa: E402

UP, RIGHT, DOWN, LEFT = range(4)


def test_gymnasium_check_env_passes() -> None:
    from gymnasium.utils.env_checker import check_env

    for mode in (None, "ansi", "rgb_array"):
        check_env(gym.make(GRIDWORLD_ID, render_mode=mode).unwrapped, skip_render_check=False)


def test_make_truncates_at_the_time_limit() -> None:
    env = gym.make(GRIDWORLD_ID)
    obs, info = env.reset(seed=0)
    assert obs == env.unwrapped.start and info == {}
    for t in range(100):
        obs, reward, terminated, truncated, _ = env.step(UP)  # bumps into the top edge forever
        assert obs == env.unwrapped.start and reward == 0.0 and not terminated
        assert truncated == (t == 99)
    assert not hasattr(env.unwrapped, "seed")  # gymnasium: seed through reset(seed=...)


def test_goals_terminate_with_their_rewards() -> None:
    env = GridWorld()
    env.reset(seed=0)
    assert env.step(RIGHT)[1:4] == (0.0, False, False)
    obs, reward, terminated, truncated, _ = env.step(RIGHT)
    assert env.cell(obs) == "g" and reward == 1.0 and terminated and not truncated
    env.reset()
    path = [DOWN] * 4 + [RIGHT] * 4
    rewards = [env.step(a)[1] for a in path]
    assert rewards == [0.0] * 7 + [10.0] and env.cell(env.state) == "G"
    # the pit: entering it ends the episode with its penalty
    pit = "".join(env.layout).index("X")
    above = pit - env.width
    assert env.next_state[above, DOWN] == pit and env.reward[above, DOWN] == -10.0 and env.terminal[pit]
    # a wall blocks: (0, 1) moving down hits the wall at (1, 1)
    assert env.next_state[1, DOWN] == 1


def test_render_modes_and_random_starts() -> None:
    env = GridWorld(render_mode="ansi")
    env.reset(seed=3)
    text = env.render()
    assert text.splitlines()[0].startswith("A") and text.count("A") == 1
    env = GridWorld(render_mode="rgb_array")
    env.reset(seed=3)
    frame = env.render()
    assert frame.shape == (env.height * 16, env.width * 16, 3) and frame.dtype == np.uint8
    assert GridWorld().render() is None
    starts = {GridWorld().reset(seed=s, options={"random_start": True})[0] for s in range(200)}
    free = set(np.flatnonzero(~(env.terminal | env.wall)))
    assert starts == free


def test_bad_input_is_explained() -> None:
    with pytest.raises(ValueError, match="one start"):
        GridWorld(["...", ".G."])
    with pytest.raises(ValueError, match="unknown"):
        GridWorld(["S.?"])
    with pytest.raises(ValueError, match="one length"):
        GridWorld(["S..", "."])
    with pytest.raises(ValueError, match="rewards"):
        GridWorld(["S.G"], rewards={"g": 1.0})
    with pytest.raises(ValueError, match="render_mode"):
        GridWorld(render_mode="human")
    env = GridWorld()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(4)


def test_optimal_q_satisfies_bellman_and_switches_goals_with_gamma() -> None:
    env = GridWorld()
    for gamma in (0.0, 0.5, 0.9, 1.0):
        q = env.optimal_q(gamma)
        v = q.max(axis=1)
        live = ~(env.terminal | env.wall)
        bellman = env.reward + gamma * (~env.terminal[env.next_state]) * v[env.next_state]
        np.testing.assert_allclose(q[live], bellman[live], atol=1e-9)
    assert np.argmax(env.optimal_q(0.5)[env.start]) == RIGHT  # towards the near +1
    assert np.argmax(env.optimal_q(0.9)[env.start]) == DOWN  # towards the far +10
    with pytest.raises(ValueError, match="gamma"):
        env.optimal_q(1.5)
    assert len(ACTIONS) == env.n_actions == 4


def test_import_dlcourse_does_not_import_gymnasium() -> None:
    code = ("import sys, dlcourse, dlcourse.ref, dlcourse.widgets.rl; "
            "assert 'gymnasium' not in sys.modules, 'gymnasium was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
