"""The package installs whole: a wheel built from the repository and installed (not
editable) into a fresh virtual environment carries the templates and static files, and
``voltspot`` run from an unrelated directory migrates its database and serves the pages.

To stay fast and offline the wheel is built with this environment's setuptools (no build
isolation) and the fresh environment borrows this one's installed dependencies through a
``.pth`` line; the ``voltspot`` it runs is the wheel's alone (no PYTHONPATH, and a path
added by a ``.pth`` line has its own ``.pth`` files, such as an editable install's, ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.http import API_TOKEN
from tests.support.server import free_port

REPOSITORY = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "backend", "pwa", "static"]


@dataclass
class Installed:
    wheel: Path
    build_output: str
    bin: Path
    workdir: Path
    env: dict[str, str]


def _files(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("packaging")
    # A copy of the sources, so the build leaves no build/ or egg-info in the repository
    # and stale files from an earlier build cannot slip into this wheel.
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        path = REPOSITORY / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(root / "dist"), str(source)],
        capture_output=True, text=True, timeout=120, cwd=root)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel, = (root / "dist").glob("voltspot-*.whl")

    environment = root / "venv"
    venv.create(environment, with_pip=False)
    bin_dir = environment / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    site_packages = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "borrowed-dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-compile", str(wheel)], capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    workdir = root / "elsewhere"
    workdir.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key != "PYTHONPATH" and not key.startswith("VOLTSPOT_")}
    env.update(VOLTSPOT_DATABASE_URL=f"sqlite:///{workdir / 'voltspot.db'}",
               VOLTSPOT_API_TOKEN=API_TOKEN, VOLTSPOT_ENV="test", PYTHONUNBUFFERED="1")
    return Installed(wheel, built.stdout + built.stderr, bin_dir, workdir, env)


@pytest.fixture(scope="module")
def served(installed: Installed) -> Iterator[str]:
    """``voltspot db upgrade`` then ``voltspot serve`` from the unrelated directory; yields
    the server's base address."""
    upgraded = subprocess.run([installed.bin / "voltspot", "db", "upgrade"], cwd=installed.workdir,
                              env=installed.env, capture_output=True, text=True, timeout=60)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    port = free_port()
    log = installed.workdir / "serve.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [installed.bin / "voltspot", "serve", "--port", str(port)], cwd=installed.workdir,
            env={**installed.env, "VOLTSPOT_PUBLIC_URL": f"http://127.0.0.1:{port}"},
            stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise RuntimeError("installed server did not start:\n" + log.read_text()) from None
            time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=20) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def test_the_wheel_carries_every_template_and_static_file(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for folder, inside in [(REPOSITORY / "pwa" / "templates", "voltspot/templates"),
                           (REPOSITORY / "static", "voltspot/static")]:
        expected = {f"{inside}/{name}" for name in _files(folder)}
        assert expected, folder
        assert expected <= names, sorted(expected - names)[:10]


def test_the_wheel_carries_every_translation_file(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    translations = REPOSITORY / "backend" / "voltspot" / "translations"
    expected = {f"voltspot/translations/{po.relative_to(translations).as_posix()}"
                for po in translations.glob("*/LC_MESSAGES/*.po")}
    assert len(expected) > 4
    assert expected <= names, sorted(expected - names)


def test_building_the_wheel_warns_of_nothing_deprecated(installed):
    assert "deprecat" not in installed.build_output.lower(), [
        line for line in installed.build_output.splitlines() if "eprecat" in line]


def test_the_installed_app_serves_its_files_from_inside_the_package(installed):
    found = subprocess.run(
        [installed.bin / "python", "-c",
         "import voltspot.app as a; print(*a.web_folders(), sep='\\n')"],
        cwd=installed.workdir, env=installed.env, capture_output=True, text=True, check=True)
    templates, static = (Path(line) for line in found.stdout.splitlines())
    package = Path(installed.bin).parent
    assert package in templates.parents and templates.name == "templates"
    assert package in static.parents and static.name == "static"


def test_an_installed_voltspot_serves_the_home_page_and_its_stylesheet(served):
    status, content_type, home = _get(served + "/")
    assert status == 200 and content_type.startswith("text/html")
    stylesheet = re.search(r'href="(/static/css/app\.css[^"]*)"', home).group(1)
    status, content_type, css = _get(served + stylesheet)
    assert status == 200 and content_type.startswith("text/css") and css.strip()


def test_an_installed_voltspot_serves_the_owner_sign_in_page(served):
    status, content_type, login = _get(served + "/owner/login")
    assert status == 200 and content_type.startswith("text/html")
    assert 'name="csrf_token"' in login


def test_an_installed_voltspot_speaks_the_drivers_language(served):
    request = urllib.request.Request(served + "/scan", headers={"Accept-Language": "de"})
    with urllib.request.urlopen(request, timeout=20) as response:
        page = response.read().decode()
    assert '<html lang="de">' in page and "QR-Code scannen" in page
