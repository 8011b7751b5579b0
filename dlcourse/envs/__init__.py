"""gymnasium environments of the course, registered on import.

``import dlcourse.envs`` imports gymnasium and registers:

- ``"dlcourse/GridWorld-v0"``: :class:`dlcourse.envs.gridworld.GridWorld`, with a 100-step time
  limit (``gymnasium.make("dlcourse/GridWorld-v0", render_mode="ansi")``); keyword arguments
  (``layout``, ``rewards``, ``step_reward``) pass through ``make``.

``import dlcourse`` does not import this package (gymnasium is imported on use only).
"""

from __future__ import annotations

import gymnasium as gym

from dlcourse.envs.gridworld import GridWorld

__all__ = ["GridWorld", "GRIDWORLD_ID"]

GRIDWORLD_ID = "dlcourse/GridWorld-v0"

if GRIDWORLD_ID not in gym.registry:  # re-importing (importlib.reload) must not warn about a duplicate
    gym.register(id=GRIDWORLD_ID, entry_point="dlcourse.envs.gridworld:GridWorld", max_episode_steps=100)
