"""Configuration (``gaitcheck.config``): defaults, TOML files, overrides, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaitcheck.config import Config, load_config
from gaitcheck.errors import ConfigError, GaitcheckError


def _toml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "settings.toml"
    p.write_text(text)
    return p


def test_defaults() -> None:
    cfg = load_config()
    assert cfg == Config()
    assert cfg.pose.model == "full" and cfg.pose.capture_fps is None and cfg.pose.use_cache
    assert cfg.clean.cutoff_hz == pytest.approx(10.0)
    assert cfg.clean.max_gap_s == pytest.approx(0.1)
    assert cfg.clean.min_visibility == pytest.approx(0.3)
    assert cfg.clean.filter_order == 4 and cfg.clean.repair_swaps is True
    assert cfg.events.min_step_s == pytest.approx(0.2)
    assert cfg.events.max_step_s == pytest.approx(1.2)
    assert cfg.events.min_steps == 4
    assert cfg.analysis.view == "auto" and cfg.analysis.min_steps_confident == 7
    assert cfg.report.overlay and cfg.report.plots and cfg.report.pain == ()
    d = cfg.to_dict()
    assert set(d) == {"pose", "clean", "events", "analysis", "report"}
    assert d["clean"]["cutoff_hz"] == 10.0


def test_file_values_and_override_precedence(tmp_path: Path) -> None:
    path = _toml(tmp_path, """
[pose]
model = "lite"
capture_fps = 240
[clean]
cutoff_hz = 8.0
filter_order = 2
[events]
min_steps = 6
[analysis]
view = "rear"
[report]
pain = ["outer-hip", "groin"]
height_cm = 180
""")
    cfg = load_config(path)
    assert cfg.pose.model == "lite" and cfg.pose.capture_fps == pytest.approx(240.0)
    assert cfg.clean.cutoff_hz == pytest.approx(8.0) and cfg.clean.filter_order == 2
    assert cfg.events.min_steps == 6 and cfg.analysis.view == "rear"
    assert cfg.report.pain == ("outer-hip", "groin")     # lists become tuples
    assert cfg.report.height_cm == pytest.approx(180.0)
    assert cfg.clean.max_gap_s == pytest.approx(0.1)     # untouched keys keep defaults

    cfg2 = load_config(path, {"clean": {"cutoff_hz": 12.0, "filter_order": None},
                              "analysis": {"view": "side-right"},
                              "pose": {"model": None}})
    assert cfg2.clean.cutoff_hz == pytest.approx(12.0)   # override beats file
    assert cfg2.clean.filter_order == 2                  # None override: file value kept
    assert cfg2.pose.model == "lite"
    assert cfg2.analysis.view == "side-right"
    # overrides without a file sit on the defaults
    assert load_config(None, {"clean": {"cutoff_hz": 7.5}}).clean.cutoff_hz == pytest.approx(7.5)


def test_whole_number_float_accepted_for_int(tmp_path: Path) -> None:
    cfg = load_config(_toml(tmp_path, "[clean]\nfilter_order = 4.0\n"))
    assert cfg.clean.filter_order == 4 and isinstance(cfg.clean.filter_order, int)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[pose]\nmodle = 'full'\n", "Unknown setting 'pose.modle'"),
        ("[clean]\ncutoff = 8\n", "Unknown setting 'clean.cutoff'"),
        ("[posee]\nmodel = 'full'\n", "Unknown configuration section [posee]"),
        ("pose = 3\n", "[pose] must be a table"),
    ],
)
def test_unknown_keys_and_sections(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(_toml(tmp_path, text))
    assert words in str(exc.value)


def test_unknown_key_in_overrides() -> None:
    with pytest.raises(ConfigError, match=r"Unknown setting 'clean\.speed'"):
        load_config(None, {"clean": {"speed": 1.0}})


WRONG_TYPES = [
    ("[clean]\ncutoff_hz = 'high'\n", "clean.cutoff_hz"),
    ("[clean]\nrepair_swaps = 1\n", "clean.repair_swaps"),
    ("[clean]\nfilter_order = 4.5\n", "clean.filter_order"),
    ("[events]\nmin_steps = [4]\n", "events.min_steps"),
    ("[pose]\nuse_cache = 'yes'\n", "pose.use_cache"),
    # optional settings (default None) and booleans/strings in number or text slots
    ("[pose]\ncapture_fps = 'fast'\n", "pose.capture_fps"),
    ("[pose]\nstart_s = 'soon'\n", "pose.start_s"),
    ("[report]\nheight_cm = 'tall'\n", "report.height_cm"),
    ("[clean]\ncutoff_hz = true\n", "clean.cutoff_hz"),
    ("[clean]\nfilter_order = true\n", "clean.filter_order"),
    ("[pose]\nmodel = 5\n", "pose.model"),
]


WRONG_TYPE_IDS = [f"{k}-{t.split('= ')[1].strip()}" for t, k in WRONG_TYPES]


@pytest.mark.parametrize(("text", "key"), WRONG_TYPES, ids=WRONG_TYPE_IDS)
def test_wrong_types_are_config_errors_naming_the_key(tmp_path: Path, text: str,
                                                      key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(_toml(tmp_path, text))
    assert key in str(exc.value)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"analysis": {"view": "top"}}, "--view must be one of 'auto', 'side-left'"),
        ({"clean": {"cutoff_hz": 0.0}}, "Setting 'clean.cutoff_hz' must be greater than 0"),
        ({"pose": {"capture_fps": -30.0}}, "--capture-fps must be at least 1"),
        ({"pose": {"capture_fps": 1e10}}, "--capture-fps must be at most 2000"),
        ({"pose": {"start_s": -1.0}}, "--start must be at least 0"),
        ({"pose": {"start_s": float("nan")}}, "--start must be a finite number"),
        ({"pose": {"end_s": 1e308}}, "--end must be at most 86400"),
        ({"pose": {"start_s": 2.0, "end_s": 1.0}}, "--end must be later than --start"),
    ],
)
def test_validation(overrides: dict[str, dict[str, object]], words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("-", r"\-")):
        load_config(None, overrides)


@pytest.mark.parametrize("view", ["auto", "side-left", "side-right", "rear", "front"])
def test_every_view_is_valid(view: str) -> None:
    assert load_config(None, {"analysis": {"view": view}}).analysis.view == view


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read configuration file"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(_toml(tmp_path, "[clean\ncutoff_hz = 8\n"))
    assert issubclass(ConfigError, GaitcheckError) and ConfigError.exit_code == 2


def test_config_is_frozen() -> None:
    cfg = load_config()
    with pytest.raises(AttributeError):
        cfg.clean.cutoff_hz = 3.0  # type: ignore[misc]
