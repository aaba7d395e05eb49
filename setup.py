"""Build hook: every wheel carries the compiled UI translations (.po → .mo), so that
`pip install .` serves Chinese pages without `make install` (the .mo files are not in git)."""

from __future__ import annotations

import os

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithTranslations(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        source = os.path.join("idp", "translations")
        for locale in sorted(os.listdir(source)):
            po_path = os.path.join(source, locale, "LC_MESSAGES", "messages.po")
            if not os.path.exists(po_path):
                continue
            target = os.path.join(self.build_lib, "idp", "translations", locale,
                                  "LC_MESSAGES", "messages.mo")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(po_path, "rb") as po, open(target, "wb") as mo:
                write_mo(mo, read_po(po, locale=locale))


setup(cmdclass={"build_py": BuildPyWithTranslations})
