"""`pip install .` (not only `make install`) gives Chinese pages: the wheel built from the
tracked files alone, which hold no compiled catalogue, carries messages.mo."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from babel.messages.mofile import read_mo

ROOT = Path(__file__).resolve().parents[2]
MO = "idp/translations/zh_Hans_CN/LC_MESSAGES/messages.mo"


def test_a_wheel_built_from_a_clean_tree_carries_the_compiled_chinese_catalogue(tmp_path):
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                             capture_output=True).stdout.decode().split("\0")
    tree = tmp_path / "tree"
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    assert not (tree / MO).exists()  # nothing compiled by hand is in the tree
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(tmp_path / "dist"), str(tree)], capture_output=True, text=True,
                           timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = list((tmp_path / "dist").glob("unified_idp-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        catalogue = read_mo(io.BytesIO(archive.read(MO)))
    assert catalogue.get("Log in").string == "登录"
    assert catalogue.get("Request refused").string == "请求被拒绝"
