"""build_scripts/bundle_trim.py: what the Linux bundle leaves out, decided on real files.

Runs without a bundle: the ICU rules on item names; the ELF reader, the rebuilt ICU data
library and the "left to the system" closure on PySide6's own libraries.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT_LIB = Path(__import__("PySide6").__file__).parent / "Qt" / "lib"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bundle_trim", ROOT / "build_scripts" / "bundle_trim.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bundle_trim", module)
    spec.loader.exec_module(module)
    return module


trim = _load()
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PySide6's Linux wheel carries ICU"
)


@pytest.mark.parametrize(
    ("item", "dropped"),
    [
        ("en_GB.res", False),
        ("en_001.res", False),
        ("root.res", False),
        ("coll/root.res", False),
        ("coll/ucadata.icu", False),
        ("coll/res_index.res", False),
        ("zone/pool.res", False),
        ("supplementalData.res", False),
        ("likelySubtags.res", False),
        ("brkitr/word.brk", False),
        ("nfkc.nrm", False),
        ("de.res", True),
        ("zh_Hant_TW.res", True),
        ("coll/de__PHONEBOOK.res", True),
        ("coll/de_.res", True),
        ("coll/zh.res", True),
        ("curr/en_AU.res", True),
        ("brkitr/cjdict.dict", True),
        ("ibm-37_P100-1995.cnv", True),
        ("rfc3491.spp", True),
        ("translit/root.res", True),
        ("unames.icu", True),
        ("confusables.cfu", True),
    ],
)
def test_icu_items_kept_and_dropped(item: str, dropped: bool) -> None:
    assert trim.icu_item_dropped(item) is dropped


@linux_only
def test_reads_the_icu_data_symbol_and_the_needed_libraries_of_real_libraries() -> None:
    [data_library] = QT_LIB.glob("libicudata.so.*")
    version = data_library.name.rsplit(".", 1)[1]

    data = trim.exported_object(data_library, f"icudt{version}_dat")

    assert data[2:4] == b"\xda\x27"  # an ICU data header's magic
    assert data[12:16] == b"CmnD"  # a common data package
    assert data_library.name in trim.needed_libraries(QT_LIB / f"libicuuc.so.{version}")
    with pytest.raises(trim.TrimError, match="does not export"):
        trim.exported_object(data_library, "no_such_symbol")
    assert trim.needed_libraries(ROOT / "README.md") == []


@linux_only
def test_rebuilt_icu_library_keeps_the_soname_and_symbol(tmp_path: Path) -> None:
    if not all(shutil.which(tool) for tool in ("icupkg", "as", "ld")):
        pytest.skip("icupkg, as and ld are needed (build_scripts/system-deps.sh dist)")
    [original] = QT_LIB.glob("libicudata.so.*")
    version = original.name.rsplit(".", 1)[1]

    slim = trim.trimmed_icu_library(original, tmp_path)

    assert slim.name == original.name
    assert slim.stat().st_size < original.stat().st_size / 5
    assert trim.exported_object(slim, f"icudt{version}_dat")[12:16] == b"CmnD"
    # The SONAME is what libicuuc asks for.
    assert original.name.encode() in slim.read_bytes()


@linux_only
def test_left_to_the_system_takes_what_only_those_libraries_need() -> None:
    """A library goes with the system ones when nothing staying needs it (PySide6's ICU trio:
    libicui18n needs libicuuc and libicudata; QtCore needs all three)."""
    [icuuc] = QT_LIB.glob("libicuuc.so.*")
    [icui18n] = QT_LIB.glob("libicui18n.so.*")
    [icudata] = QT_LIB.glob("libicudata.so.*")
    icu = [(icui18n.name, icui18n), (icuuc.name, icuuc), (icudata.name, icudata)]
    qt_core = ("PySide6/Qt/lib/libQt6Core.so.6", QT_LIB / "libQt6Core.so.6")

    assert trim.left_to_system(icu, frozenset({icui18n.name})) == {
        icui18n.name, icuuc.name, icudata.name
    }
    assert trim.left_to_system([*icu, qt_core], frozenset({icui18n.name})) == {icui18n.name}
    assert trim.left_to_system([*icu, qt_core], frozenset({"libcups.so.2"})) == set()
