"""The repository's set-up files agree with each other, and `import dlcourse` stays light."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirement_name_and_bound(req: str) -> tuple[str, str]:
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)", req.strip())
    assert match, req
    return match.group(1).lower(), match.group(3).replace(" ", "")


def _conda_requirements(path: Path) -> tuple[dict[str, str], list[str]]:
    env = yaml.safe_load(path.read_text())
    conda: dict[str, str] = {}
    pip: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.extend(dep["pip"])
        else:
            name, bound = _requirement_name_and_bound(dep)
            conda[name] = bound
    for line in pip:
        if not line.startswith("-"):
            name, bound = _requirement_name_and_bound(line)
            conda[name] = bound
    return conda, pip


def test_import_dlcourse_imports_no_heavy_library():
    code = (
        "import sys, dlcourse, dlcourse.ref, dlcourse.checks, dlcourse.checks.backprop, dlcourse.data;"
        "heavy = [m for m in ('torch', 'matplotlib', 'ipywidgets', 'sklearn') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "", f"imported at start-up: {out.strip()}"


# Upper bounds allowed only where a documented bug forces one (with a comment in pyproject.toml
# that says which); none does today.
UPPER_BOUND_EXCEPTIONS: set[str] = set()


def test_dependencies_have_lower_bounds_only():
    deps = PYPROJECT["project"]["dependencies"] + [
        d for extra in PYPROJECT["project"]["optional-dependencies"].values() for d in extra
    ]
    for dep in deps:
        if dep.startswith("dlcourse["):
            continue
        name, bound = _requirement_name_and_bound(dep)
        assert bound.startswith(">="), f"{dep}: use a lower bound"
        assert "==" not in bound, f"{dep}: no pins"
        if name not in UPPER_BOUND_EXCEPTIONS:
            assert "<" not in bound, f"{dep}: no upper bounds"


def test_extras_and_console_script():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"dev", "instructor"} <= set(extras)
    assert any(d.startswith("nbgrader") for d in extras["instructor"])
    assert PYPROJECT["project"]["scripts"]["dlcourse"] == "dlcourse.course.cli:main"


@pytest.mark.parametrize("env_file", ["environment.yml", "binder/environment.yml"])
def test_conda_environments_match_pyproject(env_file):
    conda, pip = _conda_requirements(ROOT / env_file)
    for dep in PYPROJECT["project"]["dependencies"]:
        name, bound = _requirement_name_and_bound(dep)
        assert name in conda, f"{env_file} lacks {name}"
        assert conda[name] == bound, f"{env_file}: {name}{conda[name]} but pyproject says {name}{bound}"
    # torch must never come from a plain index alone on a CPU machine: the CPU index is listed.
    assert any("download.pytorch.org/whl/cpu" in line for line in pip), env_file


def test_binder_mirrors_the_root_environment():
    root, _ = _conda_requirements(ROOT / "environment.yml")
    binder, _ = _conda_requirements(ROOT / "binder/environment.yml")
    root.pop("-e", None)
    assert {k: v for k, v in root.items() if k != "."} == binder


def test_binder_postbuild_installs_the_package():
    post = (ROOT / "binder/postBuild").read_text()
    assert "pip install" in post and "-e ." in post
    assert (ROOT / "binder/postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make (\w+)", quick_start, flags=re.M)
    assert commands[:2] == ["lab", "test"], commands
    ci = (ROOT / ".ci/run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M), ".ci/run must call `make test`, the README's command"


def test_makefile_installs_cpu_torch_before_the_package():
    makefile = (ROOT / "Makefile").read_text()
    torch_line = makefile.index("scripts/install_torch.py\n")
    package_line = makefile.index('pip install --progress-bar off -e ".[dev,lab]"')
    assert torch_line < package_line


def test_install_torch_picks_the_cpu_index_without_a_gpu(monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import install_torch
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(install_torch.platform, "system", lambda: "Linux")
    monkeypatch.setattr(install_torch, "has_nvidia_gpu", lambda: False)
    cmd = install_torch.pip_command()
    assert cmd[cmd.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    assert any(arg.startswith("torch==") for arg in cmd)
    monkeypatch.setattr(install_torch, "has_nvidia_gpu", lambda: True)
    assert "--index-url" not in install_torch.pip_command()


def test_gitignore_keeps_grades_out_of_the_repository():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in ("gradebook.db", "submitted/", "autograded/", "feedback/", "__pycache__/"):
        assert entry in ignored
