"""What `onesend.spec` leaves out of, or slims in, the Linux bundle beyond PyInstaller's filters.

- Qt's ICU data (`libicudata.so.NN`, 32 MB) is rebuilt with English only: root, en, en_001,
  en_150, en_GB, en_US and en_US_POSIX in every tree (collation, locale, zone, currency,
  language, region and unit names, number spell-out, break rules), plus the data that is no
  one locale's (normalisation, UCA collation base, time zones, plural rules, likely subtags).
  Out: other locales, the code page converters (.cnv; Qt converts UTF-8/16/32 and Latin-1
  itself), the CJK/Thai/Lao/Khmer/Burmese word-break dictionaries, transliteration,
  StringPrep profiles, Unicode character names and the spoof checker's confusables. OneSEND
  is in English (en-GB). The replacement has the same SONAME and exports the same
  `icudtNN_dat` symbol, so Qt's libicuuc loads it unchanged. Needs `icupkg` (Debian's
  icu-devtools) and binutils' `as` and `ld` (PyInstaller needs binutils anyway).
- CUPS (`libcups.so.2`) and the libraries only it needs (GnuTLS, Kerberos, Avahi, p11-kit,
  libunistring, ...) are left to the system: Qt's CUPS print plug-in stays in the bundle and
  loads the system's libcups, which every desktop that prints has. Where there is none, the
  plug-in does not load and Qt's print dialog offers printing to a PDF file only.

Plain Python and the standard library only: the spec runs it inside PyInstaller.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

# Locales kept in every ICU tree: English as written in the UK and its fallbacks (en_GB ->
# en_001 -> en -> root), and the ones ICU picks for an unset or POSIX ("C") environment.
ICU_KEPT_LOCALES = frozenset({"root", "en", "en_001", "en_150", "en_GB", "en_US", "en_US_POSIX"})
# A locale's item in a tree: af.res, zh_Hant_TW.res, de__PHONEBOOK.res (not pool.res,
# res_index.res, supplementalData.res: those are kept).
_LOCALE_ITEM = re.compile(r"^[a-z]{2,3}(?:_[A-Za-z0-9]*)*\.res$")
_TREE_INDEX_ITEMS = frozenset({"res_index.res", "pool.res"})
_DROPPED_KINDS = (".cnv", ".spp", ".dict", ".cfu")  # converters, StringPrep, dictionaries, spoof
_DROPPED_ITEMS = frozenset({"unames.icu"})  # Unicode character names (u_charName)
_DROPPED_TREES = frozenset({"translit"})
ICU_DATA_LIBRARY = re.compile(r"^libicudata\.so\.(?P<version>\d+)$")

# Libraries left to the system, with whatever only they need (see module docstring).
SYSTEM_LIBRARIES = frozenset({"libcups.so.2"})


class TrimError(RuntimeError):
    """A trimming step could not be done; the message says which tool or file."""


# -- ELF (64-bit little-endian, what PySide6's Linux wheels ship) ------------------------------

_SHT_DYNSYM = 11
_SHT_DYNAMIC = 6
_DT_NEEDED = 1


def _sections(data: bytes) -> list[tuple[int, int, int, int, int, int]]:
    """(type, address, offset, size, link, entry size) of each section of an ELF64 LE file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise TrimError("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for index in range(shnum):
        base = shoff + index * shentsize
        _, kind, _, addr, offset, size, link, _, _, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", data, base
        )
        sections.append((kind, addr, offset, size, link, entsize))
    return sections


def _string(data: bytes, offset: int) -> str:
    return data[offset:data.index(b"\0", offset)].decode("ascii")


def exported_object(library: Path, symbol: str) -> bytes:
    """The bytes of a symbol a shared library exports (its dynamic symbol table)."""
    data = library.read_bytes()
    sections = _sections(data)
    for kind, _, offset, size, link, entsize in sections:
        if kind != _SHT_DYNSYM:
            continue
        strings = sections[link][2]
        for base in range(offset, offset + size, entsize):
            name, _, _, shndx, value, length = struct.unpack_from("<IBBHQQ", data, base)
            if _string(data, strings + name) == symbol:
                _, s_addr, s_offset, _, _, _ = sections[shndx]
                start = value - s_addr + s_offset
                return data[start:start + length]
    raise TrimError(f"{library.name} does not export {symbol}")


def needed_libraries(library: Path) -> list[str]:
    """The DT_NEEDED names of a shared library or executable ([] if it is not an ELF file)."""
    data = library.read_bytes()
    try:
        sections = _sections(data)
    except (TrimError, struct.error):
        return []
    needed = []
    for kind, _, offset, size, link, entsize in sections:
        if kind != _SHT_DYNAMIC:
            continue
        strings = sections[link][2]
        for base in range(offset, offset + size, entsize):
            tag, value = struct.unpack_from("<qQ", data, base)
            if tag == _DT_NEEDED:
                needed.append(_string(data, strings + value))
    return needed


# -- ICU data ----------------------------------------------------------------------------------


def icu_item_dropped(item: str) -> bool:
    """Whether an item of the ICU data package ("coll/zh.res", "ibm-37_P100-1995.cnv") goes."""
    tree, _, name = item.rpartition("/")
    if tree in _DROPPED_TREES or name in _DROPPED_ITEMS or name.endswith(_DROPPED_KINDS):
        return True
    if name in _TREE_INDEX_ITEMS:
        return False
    return bool(_LOCALE_ITEM.match(name)) and name[: -len(".res")] not in ICU_KEPT_LOCALES


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        package = "icu-devtools" if name == "icupkg" else "binutils"
        raise TrimError(
            f"{name} is needed to slim Qt's ICU data; install {package} "
            "(build_scripts/system-deps.sh dist does)."
        )
    return path


def trimmed_icu_library(
    original: Path, work: Path, dropped: Callable[[str], bool] = icu_item_dropped
) -> Path:
    """Build, in `work`, libicudata.so.NN without the items `dropped` names; returns its path.

    By default what is left is the English data; the tests drop more to see the self-test fail.
    """
    match = ICU_DATA_LIBRARY.match(original.name)
    if match is None:
        raise TrimError(f"{original.name} is not an ICU data library")
    version = match.group("version")
    icupkg, assembler, linker = _tool("icupkg"), _tool("as"), _tool("ld")
    # icupkg wants a package's file named as its table of contents is (icudt73l.dat).
    (work / "full").mkdir(parents=True, exist_ok=True)
    full = work / "full" / f"icudt{version}l.dat"
    slim = work / f"icudt{version}l.dat"
    full.write_bytes(exported_object(original, f"icudt{version}_dat"))
    listing = subprocess.run(
        [icupkg, "--ignore-deps", "-l", str(full)], check=True, capture_output=True, text=True
    ).stdout.split()
    removed = [item for item in listing if dropped(item)]
    removals = work / "removed.txt"
    removals.write_text("\n".join(removed) + "\n", encoding="ascii")
    slim.unlink(missing_ok=True)
    # The break rules name the dictionaries that go; ICU then breaks those scripts without one.
    result = subprocess.run(
        [icupkg, "--ignore-deps", "-r", str(removals), str(full), str(slim)],
        check=False, capture_output=True, text=True,
    )
    unexpected = [
        line for line in result.stderr.splitlines()
        if "depends on missing item" in line and not line.rstrip().endswith(".dict")
    ]
    if result.returncode != 0 or unexpected or not slim.is_file():
        raise TrimError(f"icupkg could not slim the ICU data: {(unexpected or [result.stderr])[0]}")
    source = work / "icudata.S"
    source.write_text(
        "\t.section .note.GNU-stack,\"\",%progbits\n"
        "\t.section .rodata\n"
        f"\t.globl icudt{version}_dat\n"
        f"\t.type icudt{version}_dat,%object\n"
        "\t.balign 16\n"
        f"icudt{version}_dat:\n"
        f"\t.incbin \"{slim.name}\"\n"
        f"\t.size icudt{version}_dat, .-icudt{version}_dat\n",
        encoding="ascii",
    )
    subprocess.run([assembler, "-o", "icudata.o", "icudata.S"], cwd=work, check=True)
    library = work / original.name
    subprocess.run(
        [linker, "-shared", "-soname", original.name, "-z", "noexecstack", "-o", library.name,
         "icudata.o"],
        cwd=work, check=True,
    )
    if exported_object(library, f"icudt{version}_dat") != slim.read_bytes():
        raise TrimError(f"the rebuilt {original.name} does not hold the slimmed data")
    return library


# -- Libraries left to the system --------------------------------------------------------------


def left_to_system(
    binaries: Iterable[tuple[str, Path]], system: frozenset[str] = SYSTEM_LIBRARIES
) -> set[str]:
    """Bundle paths of the `system` libraries and of the libraries only they need.

    `binaries` is (bundle path, file) of every binary in the bundle. A library goes when its
    name is in `system`, or when every binary that needs it is going.
    """
    entries = {dest: source for dest, source in binaries if source.is_file()}
    by_name: dict[str, str] = {}
    for dest in entries:
        by_name.setdefault(Path(dest).name, dest)
    needs = {dest: set(needed_libraries(source)) for dest, source in entries.items()}
    going = {by_name[name] for name in system if name in by_name}
    changed = True
    while changed:
        changed = False
        for name in {n for dest in going for n in needs[dest]}:
            dest = by_name.get(name)
            if dest is None or dest in going:
                continue
            users = {d for d, n in needs.items() if name in n}
            if users and users <= going:
                going.add(dest)
                changed = True
    return going
