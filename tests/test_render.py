"""Rendering: rgb_array frames (shape, dtype, they change as the learner does), the ANSI table,
human mode without a display, the GIF writer and `studygym render`, gymnasium's RecordVideo."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from PIL import Image

from studygym import render
from studygym.cli import render as cli_render
from studygym.envs.gym import StudyGymEnv

TINY = {"n_items": 5, "slots_per_day": 3, "n_days": 2}


@pytest.fixture(scope="module")
def rgb_env():
    env = StudyGymEnv("Review-v0", render_mode="rgb_array", **TINY)
    yield env
    env.close()


def test_rgb_array_frames_are_uint8_images_that_change_between_steps(rgb_env):
    rgb_env.reset(seed=0)
    first = rgb_env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    assert first.shape[:2] == (render.FRAME_SIZE[1], render.FRAME_SIZE[0])
    frames = [first]
    for action in (0, 1, 0):
        rgb_env.step(action)
        frames.append(rgb_env.render())
    assert all(f.shape == first.shape and f.dtype == np.uint8 for f in frames)
    for before, after in zip(frames, frames[1:]):
        assert np.abs(before.astype(int) - after.astype(int)).sum() > 0, "a step changed nothing in the image"
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 2  # an image, not a blank canvas


def test_snapshot_shows_hidden_and_observed_state(rgb_env):
    rgb_env.reset(seed=1)
    rgb_env.step(2)
    snap = rgb_env.snapshot()
    items = snap["items"]
    assert set(items) >= {"recall", "stability", "due_in", "days_since", "last_grade", "seen"}
    assert items["seen"].tolist() == [0, 0, 1, 0, 0] and items["last_grade"][2] in (1, 2, 3, 4)
    assert 0 < items["recall"][2] <= 1 and items["recall"][0] == 0  # reviewed item is remembered, others not
    assert np.isfinite(items["stability"][2]) and np.isnan(items["stability"][0])  # unseen: no stability
    assert snap["step"] == 1 and snap["day"] == 0 and snap["slot"] == 1


def test_ansi_render_is_a_readable_table():
    env = StudyGymEnv("Review-v0", render_mode="ansi", **TINY)
    env.reset(seed=0)
    env.step(3)
    text = env.render()
    assert isinstance(text, str)
    lines = text.splitlines()
    assert "step 1/6" in lines[0] and "day 1 slot 2" in lines[0]
    header = next(line for line in lines if line.startswith("item"))
    assert "recall now*" in header and "last grade" in header
    rows = [line for line in lines if line[:4].strip().isdigit()]
    assert len(rows) == 5 and "unseen" in rows[0] and "unseen" not in rows[3]


def test_human_mode_without_a_display_warns_and_shows_nothing(monkeypatch):
    available, _ = render.has_display()
    if available:
        pytest.skip("a display is available here: human mode opens a window")
    env = StudyGymEnv("Review-v0", render_mode="human", **TINY)
    with pytest.warns(RuntimeWarning, match="cannot open a window"):
        env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not every step
        env.step(0)
    assert env.render() is None
    env.close()


def test_render_modes_are_declared_and_checked():
    assert set(StudyGymEnv.metadata["render_modes"]) == {"ansi", "rgb_array", "human"}
    assert StudyGymEnv.metadata["render_fps"] == render.RENDER_FPS
    with pytest.raises(ValueError, match="render_mode must be one of"):
        StudyGymEnv("Review-v0", render_mode="video", **TINY)
    gym_check_env(gymnasium.make("studygym/Review-v0", render_mode="rgb_array", **TINY).unwrapped,
                  skip_render_check=False)


@pytest.mark.parametrize("env_id,policy,overrides", [
    ("Sleep-v0", "random", {"n_items": 6}), ("Tagging-v0", "random", {"n_items": 6}),
    ("Deck-v0", "anki_sm2", {"deck_size": 50})])
def test_other_envs_render_their_state(env_id, policy, overrides):
    frames = cli_render.record_episode(env_id, policy, steps=2, overrides=overrides)
    assert len(frames) == 3 and all(f.dtype == np.uint8 and f.shape[2] == 3 for f in frames)
    assert np.abs(frames[0].astype(int) - frames[2].astype(int)).sum() > 0


def test_gif_writer_and_cli_write_a_multi_frame_gif_and_refuse_to_overwrite(tmp_path):
    from studygym import cli

    out = tmp_path / "run.gif"
    assert cli.main(["render", "Review-v0", "--policy", "fsrs", "--out", str(out), "--steps", "4",
                     "--override", "n_items=5", "--override", "slots_per_day=3", "--override", "n_days=2"]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 5 and gif.size == render.FRAME_SIZE  # the start + 4 steps
        gif.seek(4)
        assert np.asarray(gif.convert("RGB")).shape == (render.FRAME_SIZE[1], render.FRAME_SIZE[0], 3)
    before = out.read_bytes()
    frames = [np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)]
    with pytest.raises(FileExistsError, match="--force"):
        render.write_gif(frames, out)
    assert out.read_bytes() == before
    render.write_gif(frames, out, force=True)
    with Image.open(out) as gif:
        assert gif.n_frames == 2 and gif.size == (8, 8)
    args = cli_args(out)
    with pytest.raises(FileExistsError, match="--force"):
        cli_render.run(args)


def cli_args(out):
    import argparse

    parser = argparse.ArgumentParser()
    cli_render.add_arguments(parser)
    return parser.parse_args(["Review-v0", "--out", str(out), "--steps", "2"])


def test_gymnasium_record_video_captures_an_episode(tmp_path):
    pytest.importorskip("moviepy", reason="gymnasium's RecordVideo needs moviepy (pip install moviepy)")
    from gymnasium.wrappers import RecordVideo

    env = RecordVideo(gymnasium.make("studygym/Review-v0", render_mode="rgb_array", **TINY), str(tmp_path / "video"),
                      episode_trigger=lambda episode: True, disable_logger=True)
    env.reset(seed=0)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        done = terminated or truncated
    env.close()
    videos = list((tmp_path / "video").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0


def test_gymnasium_render_collection_gathers_one_frame_per_step():
    """What video capture does (without moviepy): render after reset and every step."""
    from gymnasium.wrappers import RenderCollection

    env = RenderCollection(gymnasium.make("studygym/Review-v0", render_mode="rgb_array", **TINY))
    env.reset(seed=0)
    for _ in range(3):
        env.step(env.action_space.sample())
    frames = env.render()
    assert len(frames) == 4 and all(f.dtype == np.uint8 and f.ndim == 3 for f in frames)
