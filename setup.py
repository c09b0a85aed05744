"""Build step that puts the web files into the package: the repository keeps the templates
in ``pwa/templates`` and the static files in ``static/``, and a built distribution carries
them as ``voltspot/templates`` and ``voltspot/static`` (``voltspot.app`` looks there when it
is not run from the repository). Everything else about the package is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
WEB_FILES = {"templates": HERE / "pwa" / "templates", "static": HERE / "static"}


def _files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts)


class BuildWithWebFiles(build_py):
    """``build_py`` that also copies ``pwa/templates`` and ``static`` into the built
    package. An editable install skips the copy: it runs from the repository, whose folders
    ``voltspot.app`` finds itself."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name, source in WEB_FILES.items():
            if not source.is_dir():
                raise FileNotFoundError(f"{source} is missing: the package would have no {name}")
            for path in _files_under(source):
                target = Path(self.build_lib, "voltspot", name, path.relative_to(source))
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(Path(self.build_lib, "voltspot", name, path.relative_to(source)))
                          for name, source in WEB_FILES.items()
                          for path in _files_under(source)]


setup(cmdclass={"build_py": BuildWithWebFiles})
